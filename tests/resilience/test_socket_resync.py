"""Regression: open sockets get a fresh snapshot once the channel layer has Redis back.

Pub/sub keeps nothing, so what was published during the outage is lost; channels-redis
subscribed again by itself but told nobody, and pages carried on without what they missed.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from notifications.layers import RESYNC_EVENT, UserGroupsLayer
from skywatch.events import user_group
from tests.factories import CityFactory, SubscriptionFactory

WEATHER = {"type": "weather", "updates": []}


async def test_after_redis_comes_back_every_socket_in_a_group_is_told_to_resync(redis_server):
    layer = UserGroupsLayer(hosts=[redis_server.url], prefix=f"resync-{uuid.uuid4().hex[:8]}")
    member = await layer.new_channel()
    await layer.group_add("user.1", member)
    probe = await layer.new_channel("health.")  # /readyz's kind of channel: in no group
    try:
        await layer.group_send("user.1", WEATHER)
        assert await asyncio.wait_for(layer.receive(member), 5) == WEATHER

        await asyncio.to_thread(redis_server.kill)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(redis_server.start)

        assert await asyncio.wait_for(layer.receive(member), 15) == RESYNC_EVENT
        await layer.group_send("user.1", WEATHER)  # and the group hears publications again
        assert await asyncio.wait_for(layer.receive(member), 5) == WEATHER
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(probe), 0.3)
    finally:
        await layer.flush()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_resync_event_makes_the_socket_send_a_fresh_snapshot(
    settings, client, alice, monkeypatch
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # The consumer queries from worker threads: their connections must not outlive the test.
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    from asgiref.sync import sync_to_async

    from skywatch.routing import build_router

    @sync_to_async
    def login_and_follow(name: str) -> bytes:
        client.force_login(alice)
        SubscriptionFactory(user=alice, city=CityFactory(name=name))
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        return f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()

    cookie = await login_and_follow("London")
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie)]
    socket = WebsocketCommunicator(build_router(None), "/ws/weather/", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    try:
        first = await socket.receive_json_from(timeout=5)
        # Followed while nobody could be told (in production: while Redis was down).
        await sync_to_async(SubscriptionFactory)(
            user=alice, city=await sync_to_async(CityFactory)(name="Lima")
        )

        await get_channel_layer().group_send(user_group(alice.pk), RESYNC_EVENT)

        resent = await socket.receive_json_from(timeout=5)
    finally:
        await socket.disconnect()
    assert first["type"] == resent["type"] == "snapshot"
    assert [s["city"]["name"] for s in first["subscriptions"]] == ["London"]
    assert [s["city"]["name"] for s in resent["subscriptions"]] == ["London", "Lima"]
