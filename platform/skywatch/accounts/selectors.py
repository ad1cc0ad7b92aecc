"""Reads about accounts: the `user` of the API, personal tokens and who a token belongs to."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.db.models import QuerySet
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from skywatch.accounts.models import ApiToken, User
from skywatch.times import iso_z

TOKEN_PREFIX = "sw_"  # noqa: S105 - a label, not a secret


# What secrets.token_urlsafe makes; anything else (a NUL byte, say) is no token.
SHARE_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def share_owner(*, share_token: str) -> User | None:
    """The active account whose current share token this is, or None."""
    if not SHARE_TOKEN_PATTERN.fullmatch(share_token or ""):
        return None
    return User.objects.filter(share_token=share_token, is_active=True).first()


def share_path(user: User) -> str:
    """The path of the account's read-only share page."""
    return f"/share/{user.share_token}/"


def user_as_dict(user: User, *, share_url: str) -> dict:
    """The API's `user`: plan, usage, units and the absolute share link."""
    return {
        "id": user.pk,
        "email": user.email,
        "plan": user.plan.as_dict(),
        # Subscriptions hang off the account; counting them needs no import of that app.
        "usage": {"cities": user.subscriptions.count()},
        "units": user.units,
        "share_url": share_url,
    }


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_prefix(raw: str) -> str | None:
    """The lookup part of `sw_<prefix>_<secret>`, or None when it is not shaped like a token."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    return prefix if sep and prefix and secret else None


def api_token_find(raw: str) -> ApiToken | None:
    """The live token a presented string stands for (active owner), compared in constant time."""
    prefix = token_prefix(raw) if isinstance(raw, str) else None
    if prefix is None:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__plan")
        .filter(prefix=prefix, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    return token


def user_for_api_token(raw: str) -> User | None:
    """The owner of a personal token (the websocket's token scheme)."""
    token = api_token_find(raw)
    return token.user if token else None


def api_tokens_for(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_as_dict(token: ApiToken) -> dict:
    """A token as listed: never its secret."""
    return {
        "id": token.pk,
        "name": token.name,
        "created_at": iso_z(token.created_at),
        "last_used_at": iso_z(token.last_used_at) if token.last_used_at else None,
    }


def user_for_jwt(raw: str) -> User | None:
    """The active owner of a valid JWT access token (the websocket's JWT scheme)."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return User.objects.filter(pk=token.get("user_id"), is_active=True).first()
