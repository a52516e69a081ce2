#!/usr/bin/env python
"""Django's command-line utility, as App Service's Django sample writes it: the settings module is
computed, so no text of this file names it."""
import os
import sys


def main():
    settings_module = "proj.production" if "WEBSITE_HOSTNAME" in os.environ else "proj.settings"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
