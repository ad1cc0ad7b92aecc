"""Sentry error reporting (prod only), with every event scrubbed of keys, tokens and passwords."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

FILTERED = "[Filtered]"
# Only values at least this long are searched for verbatim, so short words never vanish.
MIN_SECRET_LENGTH = 6

SENSITIVE_KEYS = frozenset(
    {
        "access",
        "appid",
        "authorization",
        "csrfmiddlewaretoken",
        "database_url",
        "dsn",
        "jwt",
        "otp",
        "proxy_authorization",
        "redis_url",
        "refresh",
        "x_api_token",
    }
)
SENSITIVE_KEY_PARTS = ("password", "passwd", "secret", "token", "api_key", "apikey", "cookie")

SENSITIVE_PATTERNS = [
    # A bearer or token scheme in a header or message.
    (re.compile(r"(?i)\b(bearer|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{FILTERED}"),
    # A JWT anywhere.
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), FILTERED),
    # A credential in a query string or form body.
    (
        re.compile(
            r"(?i)(^|[?&;\s\"'])(appid|api_?key|key|access_token|refresh_token|token|"
            r"password|secret|sig|signature)=(?!\[(?:redacted|Filtered)\])([^&\s#\"']+)"
        ),
        rf"\1\2={FILTERED}",
    ),
    # A share link's token: it opens an account's charts to whoever has it.
    (re.compile(r"(/share/)[A-Za-z0-9_-]{16,}"), rf"\1{FILTERED}"),
    # The password part of a URL's credentials (postgres://user:pw@host).
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@"), rf"\1{FILTERED}@"),
]


def sentry_init(
    *, dsn: str, environment: str, release: str = "", traces_sample_rate: float = 0.0
) -> bool:
    """Start Sentry with the Django, Celery and Redis integrations when a DSN is given."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
    from sentry_sdk.integrations.redis import RedisIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            RedisIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
    # Scanners probing with made-up Host headers are noise, not errors.
    ignore_logger("django.security.DisallowedHost")
    return True


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict | None:
    """Return the event with every known secret, credential field and cookie replaced."""
    try:
        return scrub(event, secrets=secret_values())
    except Exception:
        # An event that cannot be scrubbed is dropped rather than sent as it is.
        return None


def secret_values() -> list[str]:
    """The configured secrets whose values must never leave the process, longest first."""
    from django.conf import settings

    try:
        from weather_provider.secrets import secret_values as provider_secret_values
    except ImportError:
        provider = [
            getattr(settings, "OPENWEATHER_API_KEY", ""),
            getattr(settings, "OPEN_METEO_API_KEY", ""),
        ]
    else:
        provider = list(provider_secret_values())
    database = settings.DATABASES.get("default", {}).get("PASSWORD", "")
    redis_password = urlsplit(getattr(settings, "REDIS_URL", "") or "").password or ""
    candidates = {str(v) for v in (*provider, settings.SECRET_KEY, database, redis_password) if v}
    return sorted((v for v in candidates if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(value: Any, *, secrets: list[str], key: str | None = None) -> Any:
    """Scrub any JSON-like value: sensitive keys lose their value, strings lose secrets."""
    if key is not None and is_sensitive_key(key) and value not in (None, "", [], {}):
        return FILTERED
    if isinstance(value, dict):
        return {k: scrub(v, secrets=secrets, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if is_named_pair(value):
            name, inner = value
            return [name, scrub(inner, secrets=secrets, key=name)]
        return [scrub(item, secrets=secrets) for item in value]
    if isinstance(value, str):
        return scrub_text(value, secrets=secrets)
    return value


def scrub_text(text: str, *, secrets: list[str]) -> str:
    """Replace known secret values and credential-looking fragments in one string."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, FILTERED)
    for pattern, replacement in SENSITIVE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_key(key: str) -> bool:
    """A field or header whose value is a credential whatever it looks like."""
    name = key.lower().replace("-", "_")
    return name in SENSITIVE_KEYS or any(part in name for part in SENSITIVE_KEY_PARTS)


def is_named_pair(value: list | tuple) -> bool:
    """A `[name, value]` pair, as Sentry sends headers and query strings in list form."""
    return len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], str)
