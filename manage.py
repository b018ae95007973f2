#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusflow.settings")
    from focusflow.env import env_bool, env_str

    # A local run (debug on) without a database: the project's own embedded PostgreSQL, started
    # if needed and shared by every command (runserver's reloader inherits the variable). Here
    # and not in settings: gunicorn and pytest never start a server behind anyone's back.
    if not env_str("DATABASE_URL") and env_bool("DJANGO_DEBUG", False):
        from focusflow.db.embedded import database_url

        os.environ["DATABASE_URL"] = database_url(Path(__file__).resolve().parent)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
