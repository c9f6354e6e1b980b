#!/usr/bin/env python
"""Kept in a sub-folder: the image's steps do not need it (they run python -m django)."""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
