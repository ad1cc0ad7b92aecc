"""Protocol routing: HTTP to Django, websockets to the notifications consumers."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from notifications.routing import websocket_urlpatterns


def _is_secure(scope: dict, headers: dict[bytes, bytes]) -> bool:
    """wss, or a TLS-terminating proxy said so the way Django's HTTP side believes it."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        forwarded = headers.get(header, b"").decode("latin-1").split(",")[0].strip()
        return forwarded == value
    return False


def origin_allowed(scope: dict) -> bool:
    """Django's CSRF origin rule for a websocket handshake: the Origin is the site's own
    (scheme, host and port of this very request, the host one of ALLOWED_HOSTS) or one of
    CSRF_TRUSTED_ORIGINS. A handshake without Origin passes: browsers always send one, so it
    is a script, which has no victim's cookie and goes on to authenticate by token."""
    headers = dict(scope.get("headers") or [])
    raw_origin = headers.get(b"origin")
    if raw_origin is None:
        return True
    try:
        origin = raw_origin.decode("latin-1").strip().lower()
        parsed = urlsplit(origin)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if domain and validate_host(domain, allowed_hosts):
        own = f"{'https' if _is_secure(scope, headers) else 'http'}://{host}"
        if origin == own:
            return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted = trusted.lower()
        if "*" not in trusted:
            if origin == trusted:
                return True
            continue
        wildcard = urlsplit(trusted)
        if wildcard.scheme == parsed.scheme and is_same_domain(
            parsed.netloc, wildcard.netloc.lstrip("*")
        ):
            return True
    return False


class SiteOriginValidator:
    """Refuses at the handshake a websocket opened by a page of another origin (CSWSH)."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def build_router(django_application):
    return ProtocolTypeRouter(
        {
            "http": django_application,
            # Cookies only: the consumer signs the session in itself, in the same trip to the
            # database as the rest of its connect (channels' AuthMiddlewareStack takes three).
            "websocket": SiteOriginValidator(CookieMiddleware(URLRouter(websocket_urlpatterns))),
        }
    )
