"""Web Push (RFC 8030/8291/8292) through pywebpush: the VAPID key, which endpoints may be
reached (never a private or loopback address: the server makes these requests), and sending."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import socket
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from skywatch.errors import InvalidInput

logger = logging.getLogger(__name__)

PUSH_TTL_SECONDS = 12 * 3600
PUSH_TIMEOUT_SECONDS = 10
MAX_ENDPOINT_LENGTH = 2048


class PushGone(Exception):
    """The push service says this subscription no longer exists (404 or 410)."""


def vapid_private_pem() -> str:
    """The configured key (the variable, else the file it names), or "" when there is none."""
    pem = settings.WEBPUSH_VAPID_PRIVATE_KEY
    if not pem and settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE:
        pem = Path(settings.WEBPUSH_VAPID_PRIVATE_KEY_FILE).read_text()
    return pem.strip()


def webpush_configured() -> bool:
    return bool(vapid_private_pem() and settings.WEBPUSH_CONTACT.startswith("mailto:"))


@lru_cache(maxsize=4)
def _vapid(pem: str):
    from py_vapid import Vapid02

    return Vapid02.from_pem(pem.encode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_public_key() -> str | None:
    """The application server key a browser subscribes with (base64url), or None."""
    if not webpush_configured():
        return None
    point = _vapid(vapid_private_pem()).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def _allowed_hosts() -> set[str]:
    return {host.strip().lower() for host in settings.WEBPUSH_ALLOWED_HOSTS if host.strip()}


def push_endpoint_check(endpoint) -> str:
    """Refuse an endpoint the server must not call: only https push services on public
    addresses, unless WEBPUSH_ALLOWED_HOSTS lists the host (then http is allowed too)."""
    refuse = InvalidInput(
        "The endpoint must be an https:// URL of a public push service.", field="endpoint"
    )
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise refuse
    try:
        parts = urlsplit(endpoint)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError as exc:
        raise refuse from exc
    if not host or parts.username or parts.password or any(c.isspace() for c in endpoint):
        raise refuse
    if host in _allowed_hosts():
        if parts.scheme not in ("https", "http"):
            raise refuse
        return endpoint
    if parts.scheme != "https":
        raise refuse
    try:
        addresses = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise refuse from exc
    for *_, sockaddr in addresses:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global:
            raise refuse
    return endpoint


def _key(value, *, size: int, name: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise InvalidInput(f"keys.{name} is base64url text.", field="keys")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"keys.{name} is base64url text.", field="keys") from exc
    if len(raw) != size:
        raise InvalidInput(f"keys.{name} has the wrong length.", field="keys")
    return value


def push_keys_clean(keys) -> tuple[str, str]:
    """The browser's p256dh (a P-256 point) and auth secret (16 bytes)."""
    if not isinstance(keys, dict):
        raise InvalidInput("keys holds p256dh and auth.", field="keys")
    return _key(keys.get("p256dh"), size=65, name="p256dh"), _key(
        keys.get("auth"), size=16, name="auth"
    )


def push_send(info: dict, payload: dict) -> None:
    """Send one encrypted, signed message; PushGone when the service has dropped the browser,
    another exception for anything to retry."""
    from pywebpush import WebPushException, webpush

    # Checked again at send time: the name may resolve elsewhere now.
    push_endpoint_check(info["endpoint"])
    session = requests.Session()
    session.max_redirects = 0  # a redirect could point anywhere
    try:
        webpush(
            subscription_info=info,
            data=json.dumps(payload),
            vapid_private_key=_vapid(vapid_private_pem()),
            vapid_claims={"sub": settings.WEBPUSH_CONTACT},
            content_encoding="aes128gcm",
            ttl=PUSH_TTL_SECONDS,
            timeout=PUSH_TIMEOUT_SECONDS,
            requests_session=session,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            raise PushGone(str(status)) from exc
        raise
    finally:
        session.close()
