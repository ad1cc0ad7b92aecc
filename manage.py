#!/usr/bin/env python
"""Django's command-line utility for Skywatch."""

import os
import sys
from pathlib import Path

# The Django project lives in platform/ as the package `skywatch`, so `platform` stays stdlib's.
sys.path.insert(1, str(Path(__file__).resolve().parent / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skywatch.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
