"""Puts tests/ on sys.path, so both suites share tests/polling.py and tests/ports.py; the --long switch."""


def pytest_addoption(parser):
    parser.addoption(
        "--long", action="store_true", help="run the reliability tests at full length and write docs/reliability.md"
    )
