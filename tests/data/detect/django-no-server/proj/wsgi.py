"""WSGI entry point; the settings module is computed, as in manage.py."""
import os

from django.core.wsgi import get_wsgi_application

settings_module = "proj.production" if "WEBSITE_HOSTNAME" in os.environ else "proj.settings"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
application = get_wsgi_application()
