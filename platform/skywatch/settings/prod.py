"""Production: every secret from the environment, HTTPS everywhere, JSON logs, Sentry."""

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

from skywatch.sentry import sentry_init
from skywatch.settings.base import *  # noqa: F403
from skywatch.settings.base import DATABASES, LOG_FILTERS, MIDDLEWARE, SENTRY_DSN, env

REQUIRED_VARIABLES = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
_missing = [name for name in REQUIRED_VARIABLES if not env(name, default="")]
if _missing:
    raise ImproperlyConfigured(
        f"{', '.join(_missing)} must be set when DJANGO_ENV=prod "
        "(see the Deployment section of README.md)."
    )

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")

# Probes are answered before host validation and the HTTPS redirect: kubelet sends the pod IP.
MIDDLEWARE = ["skywatch.health.ProbeMiddleware", *MIDDLEWARE]

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A database that does not answer fails the readiness probe instead of hanging it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )

# --- HTTPS behind a TLS-terminating proxy -----------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "skywatch.storage.StaticFilesStorage"},
}
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = env(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
    )

# --- Structured logs: one JSON object per line, for web, worker and beat alike ------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": LOG_FILTERS,
    "formatters": {
        "json": {
            # python-json-logger's JsonFormatter, redacting the tracebacks it formats itself.
            "()": "skywatch.logs.json_formatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn's ANSI-coloured copy of each message is left out.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # uvicorn installs its own plain handlers; these replace them once Django is set up.
        "uvicorn": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
# Celery keeps the JSON handlers above instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Sentry -----------------------------------------------------------------------------
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env("SENTRY_RELEASE", default="")
sentry_init(
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    release=SENTRY_RELEASE,
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)
