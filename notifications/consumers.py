"""The dashboard's websocket: one user's group, a snapshot on connect, server-chosen events."""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.auth import user_for_token
from skywatch.events import user_group
from subscriptions.events import forecasts_event, snapshot_event

# Module constants so tests can shrink them.
AUTH_TIMEOUT_SECONDS = 10.0
# A client only ever sends ping and auth (a token is at most 4 KiB); anything bigger is refused.
MAX_MESSAGE_CHARS = 8192
CLOSE_UNAUTHENTICATED = 4401

# What the client sees of each event published to `user.<id>`: exactly the contract's fields.
EVENT_FIELDS = {
    "snapshot": ("subscriptions",),
    "weather": ("updates",),
    "subscription.added": ("subscription",),
    "subscription.removed": ("id",),
    "plan.changed": ("plan",),
    "forecast": ("updates",),
    "alert": ("event",),
}


@database_sync_to_async
def _snapshot(user) -> list[dict]:
    """The snapshot, and the stored forecasts of the same cities (when there are any)."""
    user.refresh_from_db(fields=["units"])
    return [event for event in (snapshot_event(user=user), forecasts_event(user=user)) if event]


_user_for_token = database_sync_to_async(user_for_token)


class WeatherConsumer(AsyncJsonWebsocketConsumer):
    """Joins `user.<id>` of the authenticated user only; nothing a client sends changes that."""

    user = None
    group: str | None = None
    _auth_timer: asyncio.Task | None = None
    _authenticating = False
    _refused = False

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self._authenticated(user)
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

    async def _authenticated(self, user) -> None:
        self.user = user
        self.group = user_group(user.pk)
        # Join before reading the snapshot, so nothing published in between is missed.
        await self.channel_layer.group_add(self.group, self.channel_name)
        for event in await _snapshot(user):
            await self.send_json(event)

    async def disconnect(self, code) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auth_timer
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
        await self._authenticated(user)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def resync(self, event: dict) -> None:
        """The channel layer lost Redis for a while (notifications.layers): events may be missing,
        so the page gets a fresh snapshot."""
        if self.user is not None:
            for event in await _snapshot(self.user):
                await self.send_json(event)

    async def dispatch(self, message) -> None:
        """Events published to `user.<id>` (EVENT_FIELDS) are forwarded here, without a handler
        method each: channels' own dispatch would first hop to a thread to close stale database
        connections, the costliest step of a frame (bench/fanout.py). Everything else (websocket
        frames, `resync`) goes through channels' dispatch to the method named after its type."""
        kind = message.get("type")
        if kind in EVENT_FIELDS:
            await self.send_json(
                {"type": kind, **{name: message[name] for name in EVENT_FIELDS[kind]}}
            )
            return
        await super().dispatch(message)
