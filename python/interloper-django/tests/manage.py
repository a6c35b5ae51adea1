#!/usr/bin/env python
"""The test project's manage.py (run with src/ and the package directory on PYTHONPATH)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
