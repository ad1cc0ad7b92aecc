"""Accounts: people log in by e-mail; each account is on exactly one plan."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac


def new_share_token() -> str:
    return secrets.token_urlsafe(32)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Units(models.TextChoices):
        METRIC = "metric", "Metric (°C, m/s)"
        IMPERIAL = "imperial", "Imperial (°F, mph)"

    email = models.EmailField("e-mail address", unique=True)
    plan = models.ForeignKey(
        "billing.Plan",
        on_delete=models.PROTECT,
        to_field="slug",
        default="basic",
        related_name="users",
    )
    units = models.CharField(max_length=8, choices=Units.choices, default=Units.METRIC)
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised by a password change or "log out everywhere": every JWT and session of an older
    # generation stops working (skywatch.accounts.services.user_credentials_revoke).
    credential_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's session hash (of the password), also changed by a new credential generation,
        so that logging out everywhere ends every session; generation 0 keeps Django's own."""
        password_hash = super()._get_session_auth_hash(secret=secret)
        if not self.credential_generation:
            return password_hash
        return salted_hmac(
            "skywatch.accounts.User.session_auth_hash",
            f"{password_hash}:{self.credential_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class ApiToken(models.Model):
    """A personal API token: only a short lookup prefix and the SHA-256 of the whole are kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField("SHA-256 of the token", max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
