"""Real servers on loopback for alert delivery: an SMTP server (aiosmtpd) that keeps what it
receives, and a Web Push service that checks the VAPID signature (RFC 8292) and decrypts the
aes128gcm payload (RFC 8291) the way a browser's push service and the browser would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.support.servers import free_port


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SmtpServer:
    """aiosmtpd on 127.0.0.1 keeping every message it accepts (`messages`)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __enter__(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@dataclass
class Browser:
    """A browser's side of a push subscription: its ECDH key and auth secret."""

    name: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))
    received: list[dict] = field(default_factory=list)
    status: int = 201

    def subscription(self, base_url: str) -> dict:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{base_url}/push/{self.name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }


class PushService:
    """A push service on loopback: refuses a request whose VAPID JWT does not verify (401), or
    without TTL or aes128gcm; decrypts the payload into the browser's `received`."""

    def __init__(self, *, contact: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.contact = contact
        self.browsers: dict[str, Browser] = {}
        self.refused: list[str] = []
        self.server: ThreadingHTTPServer | None = None

    def browser(self, name: str) -> Browser:
        self.browsers[name] = Browser(name)
        return self.browsers[name]

    def check(self, headers, body: bytes, browser: Browser) -> str | None:
        """Why the request is refused, or None."""
        scheme, _, params = headers.get("Authorization", "").partition(" ")
        if scheme != "vapid":
            return "no vapid authorization"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        token, key = parts.get("t", ""), parts.get("k", "")
        try:
            head, claims, signature = token.split(".")
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(key)
            )
            raw = b64url_decode(signature)
            der = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except Exception as exc:
            return f"bad signature: {exc!r}"
        claims = json.loads(b64url_decode(claims))
        if claims.get("aud") != self.url or claims.get("sub") != self.contact:
            return f"bad claims {claims}"
        if int(claims.get("exp", 0)) < time.time():
            return "expired"
        if headers.get("Content-Encoding") != "aes128gcm" or not headers.get("TTL"):
            return "no aes128gcm or TTL"
        import http_ece

        plain = http_ece.decrypt(
            body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
        )
        browser.received.append(json.loads(plain))
        return None

    def __enter__(self) -> PushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                browser = service.browsers.get(self.path.rsplit("/", 1)[-1])
                if browser is None or browser.status in (404, 410):
                    self.send_response(browser.status if browser else 404)
                    self.end_headers()
                    return
                reason = service.check(self.headers, body, browser)
                if reason:
                    service.refused.append(reason)
                self.send_response(401 if reason else browser.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def vapid_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
