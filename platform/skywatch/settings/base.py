"""Settings shared by every environment; everything tunable comes from the environment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parents[3]

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_celery_beat",
    "skywatch.accounts",
    "billing",
    "subscriptions",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, so it can turn a lockout flagged during authentication into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Scripts, styles, fonts and images from the site itself only: no inline script or style, no
# eval, no framing; the dashboard's websocket is 'self' too (CSP 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws a few icons as data: SVG from its stylesheet.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "skywatch.urls"
WSGI_APPLICATION = "skywatch.wsgi.application"
ASGI_APPLICATION = "skywatch.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so quota checks cannot interleave.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Forgiving: while Redis is down, rate limits fail open instead of failing requests.
            "BACKEND": "skywatch.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Groups over Redis pub/sub, channels local (notifications.layers): one SUBSCRIBE per user
    # a process serves, one pipelined PUBLISH per user a refresh batch reaches. It stores
    # nothing, so there is no capacity or expiry to set: a socket that was not listening
    # (Redis away) resyncs from a fresh snapshot.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "notifications.layers.UserGroupsLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Per socket: a tab gets one event per refresh, so 100 queued or a minute old means it is
    # stuck and resyncs anyway; membership lasts as long as the socket (tabs stay open for days).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 100, "expiry": 60, "group_expiry": 365 * 24 * 3600},
        }
    }

# --- Accounts ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account+address pair before any password is checked.
    "skywatch.api.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
# Sign-ups an address may make a minute (allauth's default is 20).
ACCOUNT_RATE_LIMITS = {"signup": env("ACCOUNT_SIGNUP_RATE", default="20/m/ip")}
ACCOUNT_SESSION_REMEMBER = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_SIGNUP_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "landing"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# ...but only into an account whose own address is verified (skywatch.accounts.adapters).
SOCIALACCOUNT_ADAPTER = "skywatch.accounts.adapters.SocialAccountAdapter"

# GitHub and Google sign-in appear only when their OAuth client is configured.
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {}
for _provider, _scope in (("github", ["user:email"]), ("google", ["profile", "email"])):
    _client_id = env(f"{_provider.upper()}_CLIENT_ID", default="")
    _secret = env(f"{_provider.upper()}_CLIENT_SECRET", default="")
    if _client_id and _secret:
        INSTALLED_APPS.append(f"allauth.socialaccount.providers.{_provider}")
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
            "SCOPE": _scope,
        }

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The first class answers 401 with WWW-Authenticate: Bearer (DRF says 403 otherwise).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "skywatch.api.authentication.BearerJWTAuthentication",
        "skywatch.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["skywatch.api.throttles.PlanRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["skywatch.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["skywatch.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "skywatch.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Proxies in front of the app whose X-Forwarded-For is trusted (1 behind an ingress).
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}
# Anonymous calls to /api/auth/* per client address; signed-in calls follow their plan's api_rate.
API_AUTH_RATE = env("API_AUTH_RATE", default="30/minute")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=30),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": False,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Brute force: five failures lock that account from that address for 15 minutes (web and API).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "skywatch.api.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "skywatch.api.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "skywatch.api.lockout.client_address"

SPECTACULAR_SETTINGS = {
    "TITLE": "Skywatch API",
    "DESCRIPTION": "Follow cities, search the weather, read stored readings. "
    'Every error is {"code", "message", "field"}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["skywatch.api.schema.api_paths_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "skywatch.api.schema.add_common_error_responses",
    ],
}

# --- Weather ----------------------------------------------------------------------------
WEATHER_PROVIDER = env("WEATHER_PROVIDER", default="open-meteo")
WEATHER_REFRESH_SECONDS = env.int("WEATHER_REFRESH_SECONDS", default=300)
FORECAST_REFRESH_SECONDS = env.int("FORECAST_REFRESH_SECONDS", default=3600)
# The share of every provider budget window that on-demand reads (searches, refresh now) leave
# to the scheduled refresh.
PROVIDER_SCHEDULER_RESERVE = env.float("PROVIDER_SCHEDULER_RESERVE", default=0.5)
PROVIDER_RATE_LIMIT = env("PROVIDER_RATE_LIMIT", default="")
# The web process's garbage collector (skywatch.gc_tuning): freeze survivors every so often,
# collect everything every so often; 0 turns the tuning off.
# Requests the web process serves at once (skywatch.http: its HTTP thread pool).
WEB_THREADS = env.int("WEB_THREADS", default=16)
WEB_GC_FREEZE_SECONDS = env.float("WEB_GC_FREEZE_SECONDS", default=10.0)
WEB_GC_FULL_SECONDS = env.float("WEB_GC_FULL_SECONDS", default=900.0)
# Seconds a freed budget slot is held back for clock/network jitter (capped at 10 % of a window).
PROVIDER_BUDGET_MARGIN_SECONDS = env.float("PROVIDER_BUDGET_MARGIN_SECONDS", default=0.025)
OPENWEATHER_API_KEY = env("OPENWEATHER_API_KEY", default="")
OPENWEATHER_API_KEY_FILE = env("OPENWEATHER_API_KEY_FILE", default="")
OPEN_METEO_API_KEY = env("OPEN_METEO_API_KEY", default="")
# In embedded mode (no REDIS_URL) the ASGI server runs the refresh itself.
WEATHER_EMBEDDED_SCHEDULER = env.bool("WEATHER_EMBEDDED_SCHEDULER", default=not REDIS_URL)
# Readings older than this many days are pruned by a periodic task; unset keeps every reading.
OBSERVATION_RETENTION_DAYS = env.int("OBSERVATION_RETENTION_DAYS", default=None)

# --- Alerts: e-mail and Web Push ---------------------------------------------------------
# EMAIL_URL is django-environ's e-mail URL (smtp://user:pass@host:587/?tls=True, consolemail://,
# filemail:///path); unset keeps each environment's backend (console in dev, locmem in tests).
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Skywatch <noreply@localhost>")
WEBPUSH_VAPID_PRIVATE_KEY = env("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY_FILE = env("WEBPUSH_VAPID_PRIVATE_KEY_FILE", default="")
WEBPUSH_CONTACT = env("WEBPUSH_CONTACT", default="")
WEBPUSH_ALLOWED_HOSTS = env.list("WEBPUSH_ALLOWED_HOSTS", default=[])
# At most this many alerts a user is sent an hour on each channel (web, e-mail, push).
ALERT_MAX_PER_HOUR = env.int("ALERT_MAX_PER_HOUR", default=10)
# How e-mail and push leave: a Celery task with retries (distributed mode) or a background
# thread in this process running the same function (embedded mode).
ALERT_DELIVERY = env("ALERT_DELIVERY", default="celery" if REDIS_URL else "thread")
ALERT_RETRY_SECONDS = env.float("ALERT_RETRY_SECONDS", default=2.0)
# Where links in e-mail and push messages point (no request to take it from).
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}").rstrip("/")

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than any batch (budget wait ≤ 15 min + retries): acks_late never redelivers a live task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# --- Static files, i18n -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SENTRY_DSN = env("SENTRY_DSN", default="")
# Who sees /readyz's details (timings, provider, budget, followed cities) besides staff: the
# probes' networks. Everyone else gets the status and what is down.
HEALTH_DETAIL_NETWORKS = env.list(
    "DJANGO_HEALTH_DETAIL_NETWORKS", default=["127.0.0.0/8", "::1/128"]
)

# Every handler carries the redacting filter (skywatch.logs): keys and tokens never reach a log.
LOG_FILTERS = {"redact_secrets": {"()": "skywatch.logs.RedactSecretsFilter"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": LOG_FILTERS,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Metrics (docs/OPERATIONS.md) ---------------------------------------------------------
# First, so every answered request counts (redirects and static files too); the worker and beat
# import the Celery task signal handlers. `python -m skywatch.metrics` serves them, on a port
# of its own (METRICS_PORT, set by the image), never on the public one.
MIDDLEWARE = ["skywatch.metrics.RequestMetricsMiddleware", *MIDDLEWARE]
CELERY_IMPORTS = ["skywatch.metrics"]
