"""Fast, deterministic settings for the test suite."""

from skywatch.settings.base import *  # noqa: F403
from skywatch.settings.base import env

SECRET_KEY = "test-only-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WEATHER_PROVIDER = env("WEATHER_PROVIDER", default="random")
WEATHER_EMBEDDED_SCHEDULER = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CELERY_TASK_ALWAYS_EAGER = False
