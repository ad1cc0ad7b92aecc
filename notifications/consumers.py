"""The dashboard's websocket: one user's group, a snapshot on connect, server-chosen events."""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from notifications.publish import user_group

AUTH_TIMEOUT_SECONDS = 10
CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def _snapshot(user) -> list[dict]:
    from subscriptions.selectors import subscription_list_as_dicts

    user.refresh_from_db(fields=["units"])
    return subscription_list_as_dicts(user=user)


class WeatherConsumer(AsyncJsonWebsocketConsumer):
    """Joins `user.<id>` of the authenticated user only; nothing a client sends changes that."""

    user = None
    group: str | None = None
    _auth_timer: asyncio.Task | None = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self._authenticated(user)
        else:
            self._auth_timer = asyncio.create_task(self._close_unless_authenticated())

    async def _close_unless_authenticated(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _authenticated(self, user) -> None:
        self.user = user
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "snapshot", "subscriptions": await _snapshot(user)})

    async def disconnect(self, code) -> None:
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._auth_timer
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "auth":
            await self._authenticate_by_token(content.get("token"))
        else:
            await self._error("unsupported", "Only ping and auth messages are accepted.")

    async def _authenticate_by_token(self, token) -> None:
        from notifications.auth import user_for_token

        if self.user is not None:
            await self._error("already_authenticated", "This connection is already signed in.")
            return
        user = await database_sync_to_async(user_for_token)(token)
        if user is None:
            await self.send_json(
                {"type": "error", "code": "authentication_failed", "message": "Invalid token."}
            )
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if self._auth_timer is not None:
            self._auth_timer.cancel()
        await self._authenticated(user)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            await self._error("invalid", "Messages must be JSON text.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self._error("invalid", "Messages must be JSON.")
            return
        await self.receive_json(content)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    # Events sent to the group by notifications.publish, forwarded as they are.
    async def weather(self, event) -> None:
        await self.send_json(event)

    async def snapshot(self, event) -> None:
        await self.send_json(event)

    async def subscription_added(self, event) -> None:
        await self.send_json(event)

    async def subscription_removed(self, event) -> None:
        await self.send_json(event)

    async def plan_changed(self, event) -> None:
        await self.send_json(event)
