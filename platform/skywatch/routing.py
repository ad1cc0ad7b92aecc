"""Protocol routing: HTTP to Django, websockets to the notifications consumers."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator
from django.conf import settings

from notifications.routing import websocket_urlpatterns


class SameSiteOriginValidator(OriginValidator):
    """Channels' AllowedHostsOriginValidator, except that a handshake without Origin may pass.

    Browsers always send Origin on a websocket handshake, so a foreign page is still refused;
    a script (which sends none and has no victim's cookie) goes on to authenticate by token.
    """

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


def build_router(django_application):
    return ProtocolTypeRouter(
        {
            "http": django_application,
            "websocket": SameSiteOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.ALLOWED_HOSTS
            ),
        }
    )
