"""Settings on App Service (WEBSITE_HOSTNAME is set there)."""
import os

from .settings import *  # noqa: F403

ALLOWED_HOSTS = [os.environ["WEBSITE_HOSTNAME"]]
