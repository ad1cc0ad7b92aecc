"""Settings for benchmark servers: the test settings plus a bare baseline view."""

from skywatch.settings.test import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# As in production: static files are looked up once at start, not on every request.
WHITENOISE_AUTOREFRESH = False
