"""The dashboard's websocket: one user's group, a snapshot on connect, server-chosen events."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from notifications.auth import user_for_token
from skywatch import metrics
from skywatch.accounts.selectors import user_for_session
from skywatch.events import FRAME, FRAME_FIELDS, frame_text, user_group
from subscriptions.events import snapshot_events

logger = logging.getLogger(__name__)

# Module constants so tests can shrink them.
AUTH_TIMEOUT_SECONDS = 10.0
# A client only ever sends ping and auth (a token is at most 4 KiB); anything bigger is refused.
MAX_MESSAGE_CHARS = 8192
CLOSE_UNAUTHENTICATED = 4401
# A revocation is pushed to the user's sockets (`credentials.check`); this re-check is the safety
# net for a push that was lost (a Redis blip), cheap enough for every open socket.
RECHECK_SECONDS = 60.0


def _pooled(function):
    """database_sync_to_async on a pool of threads rather than the one thread-sensitive thread:
    a connect's reads share nothing with another's, so in a reconnect storm they overlap instead
    of queueing behind each other's round trips to PostgreSQL (docs/BENCHMARKS.md)."""
    return DatabaseSyncToAsync(function, thread_sensitive=False)


@_pooled
def _snapshot(user, *, fresh: bool = False) -> list[dict]:
    """The snapshot, and the stored forecasts of the same cities (when there are any); the
    user's units are read again unless the user was `fresh`ly loaded."""
    if not fresh:
        user.refresh_from_db(fields=["units"])
    return snapshot_events(user=user)


_user_for_session = _pooled(user_for_session)


_user_for_token = _pooled(user_for_token)


@database_sync_to_async
def _token_expires_at(token) -> dt.datetime | None:
    from notifications.auth import token_expires_at

    return token_expires_at(token)


def _token_still_signs_in(token, user_id: int) -> Callable[[], bool]:
    def check() -> bool:
        from notifications.auth import user_for_token

        user = user_for_token(token)
        return user is not None and user.pk == user_id

    return check


def _session_still_signs_in(session_key: str | None, user_id: int) -> Callable[[], bool]:
    def check() -> bool:
        user = user_for_session(session_key)
        return user is not None and user.pk == user_id

    return check


class WeatherConsumer(AsyncJsonWebsocketConsumer):
    """Joins `user.<id>` of the authenticated user only; nothing a client sends changes that."""

    user = None
    group: str | None = None
    _auth_timer: asyncio.Task | None = None
    _watch: asyncio.Task | None = None
    # Whether the credential this socket signed in with still signs that user in (a DB read).
    _still_signed_in: Callable[[], bool] | None = None
    _authenticating = False
    _refused = False

    async def connect(self) -> None:
        metrics.websocket_opened()
        await self.accept()
        session_key = self.scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME)
        user = await _user_for_session(session_key) if session_key else None
        if user is not None:
            check = _session_still_signs_in(session_key, user.pk)
            await self._authenticated(user, check=check, expires_at=None, fresh=True)
        else:
            self._auth_timer = asyncio.create_task(self._close_unless_authenticated())

    async def _close_unless_authenticated(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        # A token being checked right now gets to finish; it closes the socket itself if bad.
        if self.user is None and not self._authenticating:
            await self._refuse("not_authenticated", "No authentication within the time allowed.")

    async def _refuse(self, code: str, message: str) -> None:
        """Say why, close with 4401, and take no further message from this socket."""
        self._refused = True
        await self._error(code, message)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _authenticated(
        self,
        user,
        *,
        check: Callable[[], bool],
        expires_at: dt.datetime | None,
        fresh: bool = False,
    ) -> None:
        self.user = user
        self.group = user_group(user.pk)
        self._still_signed_in = check
        # Join before reading the snapshot, so nothing published in between is missed.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self._watch = asyncio.create_task(self._watch_credential(expires_at))
        for event in await _snapshot(user, fresh=fresh):
            await self.send_json(event)

    async def _watch_credential(self, expires_at: dt.datetime | None) -> None:
        """Close at the token's expiry, and re-check the credential every RECHECK_SECONDS."""
        while not self._refused:
            wait = RECHECK_SECONDS
            if expires_at is not None:
                wait = min(wait, (expires_at - dt.datetime.now(tz=dt.UTC)).total_seconds())
            if wait > 0:
                await asyncio.sleep(wait)
            if expires_at is not None and dt.datetime.now(tz=dt.UTC) >= expires_at:
                await self._sign_out("The access token expired; sign in again.")
                return
            await self.credentials_check({})

    async def credentials_check(self, event: dict) -> None:
        """One of the user's credentials was revoked (accounts.services): is this socket's?"""
        if self._refused or self._still_signed_in is None:
            return
        try:
            still_signed_in = await database_sync_to_async(self._still_signed_in)()
        except Exception:
            # The database is away: the socket stays, and the next re-check asks again.
            logger.warning("Could not re-check a socket's credential", exc_info=True)
            return
        if not still_signed_in:
            await self._sign_out("Your sign-in was revoked; sign in again.")

    async def _sign_out(self, message: str) -> None:
        """Hear nothing more of the user, then say why and close with 4401."""
        if self._refused:
            return
        self._refused = True
        if self.group is not None:
            group, self.group = self.group, None
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._error("authentication_failed", message)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code) -> None:
        metrics.websocket_closed()
        current = asyncio.current_task()
        for task in (self._auth_timer, self._watch):
            if task is not None and task is not current:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if self._refused:
            return
        if text_data is None:
            await self._error("invalid", "Messages must be JSON text, not binary.")
            return
        if len(text_data) > MAX_MESSAGE_CHARS:
            await self._error("invalid", f"Messages are at most {MAX_MESSAGE_CHARS} characters.")
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            await self._error("invalid", "Messages must be JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "auth":
            await self._authenticate_by_token(content.get("token"))
        else:
            await self._error(
                "unsupported",
                "Only ping and auth messages are accepted; what you hear follows from the "
                "cities you follow, which change through the API.",
            )

    async def _authenticate_by_token(self, token) -> None:
        if self.user is not None:
            await self._error("already_authenticated", "This connection is already signed in.")
            return
        self._authenticating = True
        try:
            user = await _user_for_token(token)
        finally:
            self._authenticating = False
        if self._auth_timer is not None and not self._auth_timer.done():
            self._auth_timer.cancel()
        if user is None:
            await self._refuse("authentication_failed", "Invalid or expired token.")
            return
        await self._authenticated(
            user,
            check=_token_still_signs_in(token, user.pk),
            expires_at=await _token_expires_at(token),
        )

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def resync(self, event: dict) -> None:
        """The channel layer lost Redis for a while (notifications.layers): events may be missing,
        a revocation among them, so the credential is checked and the page gets a fresh snapshot."""
        await self.credentials_check(event)
        if self.user is not None and not self._refused:
            for event in await _snapshot(self.user):
                await self.send_json(event)

    async def dispatch(self, message) -> None:
        """A page's frame (skywatch.events: encoded once by the publisher for every socket of
        the user) is sent as it came; an event published unframed is framed here. Everything
        else (websocket frames, `resync`, `credentials.check`) goes to the method named after
        its type. Unlike channels' own dispatch, no message first hops to a thread to close
        stale database connections (the costliest step of a frame, bench/fanout.py): every
        read here goes through database_sync_to_async, which does that in its own thread."""
        kind = message.get("type")
        if kind == FRAME or kind in FRAME_FIELDS:
            if self._refused:  # signed out: nothing more of the user's events
                return
            text = message["text"] if kind == FRAME else frame_text(message)
            await self.send(text_data=text)
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {kind}")
        await handler(message)
