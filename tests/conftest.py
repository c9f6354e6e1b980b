"""Puts tests/ on sys.path, so both suites share tests/polling.py."""
