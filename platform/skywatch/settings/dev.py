"""Local development: debug on, console mail, a secret key kept in .secret_key."""

import secrets

from skywatch.settings.base import *  # noqa: F403
from skywatch.settings.base import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _dev_secret_key() -> str:
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or _dev_secret_key()
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
