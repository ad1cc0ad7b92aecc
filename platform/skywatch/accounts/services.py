"""Writes about accounts: registering, logging in and out (JWT), personal tokens, preferences."""

from __future__ import annotations

import datetime as dt
import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from skywatch.accounts.models import ApiToken, User, new_share_token
from skywatch.accounts.selectors import (
    GENERATION_CLAIM,
    REFRESH_CLAIM,
    TOKEN_PREFIX,
    api_tokens_for,
    jwt_user,
    token_digest,
)
from skywatch.api.lockout import LOCKED_OUT_MESSAGE, lockout_seconds
from skywatch.errors import (
    AuthenticationFailed,
    InvalidInput,
    LockedOut,
    NotFound,
    QuotaExceeded,
)
from skywatch.events import notify_users_on_commit

MAX_TOKENS_PER_ACCOUNT = 100
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)
# What each open socket of a user is told when one of the user's credentials may have been
# revoked: it re-checks its own at once (notifications.consumers) and closes with 4401 if dead.
CREDENTIALS_CHECK_EVENT = {"type": "credentials.check"}


def credentials_check_notify(*, user_id: int) -> None:
    """After commit, every open socket of the user re-checks the credential it signed in with."""
    notify_users_on_commit([user_id], CREDENTIALS_CHECK_EVENT)


def jwt_pair(*, user: User) -> dict:
    """A fresh refresh token (7 days) and access token (30 minutes) for the account; both say
    which credential generation they belong to and the access token which refresh token."""
    refresh = RefreshToken.for_user(user)
    refresh[GENERATION_CLAIM] = user.credential_generation
    refresh[REFRESH_CLAIM] = refresh["jti"]
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@transaction.atomic
def user_register(*, email: str, password: str) -> User:
    """A new account on the default plan; a taken e-mail or a weak password is refused."""
    email = (email or "").lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid e-mail address.", field="email") from exc
    if len(email) > 254:
        raise InvalidInput("An e-mail address has at most 254 characters.", field="email")
    taken = (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )
    if taken:
        raise InvalidInput("An account with this e-mail address already exists.", field="email")
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
    except IntegrityError as exc:
        # Registered by a parallel request a moment ago.
        raise InvalidInput(
            "An account with this e-mail address already exists.", field="email"
        ) from exc
    # The same e-mail record allauth keeps for web sign-ups, so both logins see one account
    # (made here, not by allauth's setup_user_email, which would start a session to read from).
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    return user


def user_login(*, request: HttpRequest, email: str, password: str) -> User:
    """The account behind an e-mail and password, through the lockout-watching backends."""
    user = authenticate(request, email=email.strip().lower(), password=password)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut(LOCKED_OUT_MESSAGE, retry_after=lockout_seconds())
    if user is None or not user.is_active:
        raise AuthenticationFailed("The e-mail address or the password is wrong.")
    # Records the login (last_login) and clears the account's failed attempts, without a session:
    # an API login is a token pair, and axes would otherwise create an empty session to log.
    session = request.__dict__.pop("session", None)
    try:
        user_logged_in.send(sender=user.__class__, request=request, user=user)
    finally:
        if session is not None:
            request.session = session
    return user


def jwt_refresh(*, refresh: str) -> str:
    """A new access token for a live refresh token of an active account."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise AuthenticationFailed("The refresh token is invalid, expired or revoked.") from exc
    if jwt_user(token) is None:
        raise AuthenticationFailed("The refresh token is invalid, expired or revoked.")
    return str(token.access_token)


def jwt_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token so it can never be used again (logout); the access tokens it
    gave stop working too, and so do the sockets they opened."""
    try:
        token = RefreshToken(refresh)
        token.blacklist()
    except TokenError as exc:
        raise AuthenticationFailed("The refresh token is invalid, expired or revoked.") from exc
    user_id = token.get("user_id")
    if user_id is not None:
        credentials_check_notify(user_id=user_id)


@transaction.atomic
def user_credentials_revoke(*, user: User) -> None:
    """Log out everywhere: every session, refresh and access token of the account stops working
    and its open sockets close; personal API tokens stay (they are revoked one by one)."""
    User.objects.filter(pk=user.pk).update(credential_generation=F("credential_generation") + 1)
    user.refresh_from_db(fields=["credential_generation"])
    credentials_check_notify(user_id=user.pk)


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; the raw token is returned this once and only its hash is kept."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the token a name.", field="name")
    if len(name) > 100:
        raise InvalidInput("A token name has at most 100 characters.", field="name")
    User.objects.select_for_update().filter(pk=user.pk).first()
    if api_tokens_for(user=user).count() >= MAX_TOKENS_PER_ACCOUNT:
        raise QuotaExceeded(
            f"An account has at most {MAX_TOKENS_PER_ACCOUNT} tokens; revoke one first."
        )
    prefix = secrets.token_hex(5)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=token_digest(raw))
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> None:
    """Delete one of the caller's tokens; someone else's is not found."""
    deleted, _ = api_tokens_for(user=user).filter(pk=token_id).delete()
    if not deleted:
        raise NotFound("No such token.")


def api_token_touch(*, token: ApiToken) -> None:
    """Remember when a token was last used, writing at most once a minute per token."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def share_token_rotate(*, user: User) -> str:
    """Give the account a new share token; pages behind the old link answer 404 at once."""
    token = new_share_token()
    User.objects.filter(pk=user.pk).update(share_token=token)
    user.share_token = token
    return token


def user_set_units(*, user: User, units: object) -> User:
    """Switch the units readings are shown in: metric or imperial."""
    if units not in User.Units.values:
        raise InvalidInput("Units are metric or imperial.", field="units")
    User.objects.filter(pk=user.pk).update(units=units)
    user.units = units
    return user


def user_units_change(*, user: User, units: object) -> User:
    """Switch the units and tell the apps above, so every open page of the account follows."""
    from skywatch.accounts.signals import units_changed

    with transaction.atomic():
        user_set_units(user=user, units=units)
        units_changed.send(sender=User, user=user)
    return user


def _sessions_of(user: User):
    """The account's live browser sessions (the database session store keeps no user column)."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    wanted = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get(SESSION_KEY)) == wanted:
            yield session.pk


@transaction.atomic
def user_delete(*, user: User, password: object = None, email: object = None) -> None:
    """Delete the account and everything of it, once its password (or e-mail) confirms it.

    Subscriptions, search history, personal tokens, e-mail records and social logins go with the
    account (their rows cascade); its sessions and refresh tokens are removed here. Shared
    cities and their readings stay.
    """
    from django.contrib.sessions.models import Session
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    if user.has_usable_password():
        if not isinstance(password, str) or not password or not user.check_password(password):
            raise InvalidInput("The password is wrong.", field="password")
    elif not isinstance(email, str) or email.strip().lower() != user.email.lower():
        raise InvalidInput("Type your e-mail address to confirm.", field="email")
    User.objects.select_for_update().filter(pk=user.pk).first()
    Session.objects.filter(pk__in=list(_sessions_of(user))).delete()
    OutstandingToken.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).delete()
