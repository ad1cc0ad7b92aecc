"""Print a new VAPID key pair for Web Push: the private key (PEM) and its public key."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand

from notifications.webpush import b64url


class Command(BaseCommand):
    help = "Print a new VAPID private key (PEM, for WEBPUSH_VAPID_PRIVATE_KEY) and its public key."

    def handle(self, *args, **options) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(pem.rstrip())
        self.stderr.write(f"Public key (application server key): {b64url(public)}")
        self.stderr.write(
            "Set WEBPUSH_VAPID_PRIVATE_KEY (or a file in …_FILE) and WEBPUSH_CONTACT."
        )
