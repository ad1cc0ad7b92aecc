"""Reads about accounts: the `user` of the API, personal tokens and who a token belongs to."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, Token

from skywatch.accounts.models import ApiToken, User
from skywatch.sql import Joined
from skywatch.times import iso_z

TOKEN_PREFIX = "sw_"  # noqa: S105 - a label, not a secret
# Claims of every JWT Skywatch issues: the account's credential generation when it was issued,
# and the refresh token (its jti) an access token descends from.
GENERATION_CLAIM = "gen"
REFRESH_CLAIM = "sid"


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
    found = _token_lookup().rows([prefix])
    if not found:
        return None
    token, user, plan = found[0]
    user.plan = plan
    token.user = user
    if not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    return token


@functools.cache
def _token_lookup() -> Joined:
    """ApiToken.objects.select_related("user", "user__plan").filter(prefix=…,
    user__is_active=True), written once: it runs on every API call (skywatch.sql)."""
    plan_field = User._meta.get_field("plan")
    plan_model = plan_field.related_model
    return Joined(
        [(ApiToken, "t"), (User, "u"), (plan_model, "p")],
        f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        f"JOIN {plan_model._meta.db_table} p "
        f"ON p.{plan_field.target_field.column} = u.{plan_field.column} "
        "WHERE t.prefix = %s AND u.is_active",
    )


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


def jwt_user(token: Token) -> User | None:
    """The active owner of a verified JWT, unless it was revoked since: a password change or
    "log out everywhere" (a newer credential generation), or its refresh token's logout."""
    generation = token.get(GENERATION_CLAIM)
    refresh_jti = token.get(REFRESH_CLAIM)
    if not isinstance(generation, int) or not isinstance(refresh_jti, str):
        return None
    user = (
        User.objects.select_related("plan")
        .filter(pk=token.get("user_id"), is_active=True, credential_generation=generation)
        .first()
    )
    if user is None or BlacklistedToken.objects.filter(token__jti=refresh_jti).exists():
        return None
    return user


def user_for_jwt(raw: str) -> User | None:
    """The active owner of a valid, unrevoked JWT access token (the websocket's JWT scheme)."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return jwt_user(token)


def jwt_expires_at(raw: str) -> dt.datetime | None:
    """When a JWT access token expires, or None when `raw` is not one."""
    try:
        token = AccessToken(raw)
    except (TokenError, TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(token["exp"], tz=dt.UTC)


def user_for_session(session_key: str | None) -> User | None:
    """The active user a stored session still signs in, verified as Django verifies a request's
    (logged out, expired or from before a password change: nobody); the session is unchanged.
    Two hand-written queries (skywatch.sql): every websocket signs in through here."""
    if not session_key or not isinstance(session_key, str):
        return None
    session = _session_data(session_key)
    user_id = session.get(SESSION_KEY)
    if user_id is None or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    found = _active_user().rows([user_id])
    user = found[0][0] if found else None
    session_hash = session.get(HASH_SESSION_KEY)
    if user is None or not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, expected) for expected in hashes):
        return None
    return user


DB_SESSIONS = "django.contrib.sessions.backends.db"


def _session_data(session_key: str) -> dict:
    """A stored session's data ({} when there is no such unexpired session)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if settings.SESSION_ENGINE != DB_SESSIONS or store.session_key is None:
        return dict(store.items())
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_SQL, [session_key, timezone.now()])
        row = cursor.fetchone()
    return store.decode(row[0]) if row else {}


_SESSION_SQL = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s"


@functools.cache
def _active_user() -> Joined:
    return Joined([(User, "u")], f"FROM {User._meta.db_table} u WHERE u.id = %s AND u.is_active")
