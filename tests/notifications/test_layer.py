"""Skywatch's channel layer on real Redis: groups across processes, channels local, a batch
publish in pipelined round trips, and nothing left subscribed behind a socket that left."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
import redis.asyncio
from django.conf import settings

from notifications.layers import PIPELINE_CHUNK, UserGroupsLayer
from tests.deploy.ports import free_port

pytestmark = pytest.mark.services


@pytest.fixture
def layer():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    return UserGroupsLayer(hosts=[settings.REDIS_URL], prefix=f"sw-layer-{uuid.uuid4().hex[:8]}")


async def next_of(layer, channel: str, timeout: float = 3):
    return await asyncio.wait_for(layer.receive(channel), timeout)


async def test_a_batch_reaches_each_group_once_in_order_and_nobody_else(layer):
    alice, bob, carol = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("user.1", alice)
    await layer.group_add("user.1", bob)  # a second tab of the same user
    await layer.group_add("user.2", carol)
    try:
        messages = [("user.1", {"type": "frame", "text": f"n{n}"}) for n in range(3)]
        messages += [("user.3", {"type": "frame", "text": "nobody here"})]
        messages += [("user.2", {"type": "frame", "text": "carol"})]
        await asyncio.to_thread(layer.group_send_many, messages)

        for tab in (alice, bob):
            assert [(await next_of(layer, tab))["text"] for _ in range(3)] == ["n0", "n1", "n2"]
        assert (await next_of(layer, carol))["text"] == "carol"
        assert layer.groups_joined() == {"user.1", "user.2"}
        with pytest.raises(TimeoutError):  # (a receive given up on releases the channel)
            await next_of(layer, carol, 0.3)
        assert layer.groups_joined() == {"user.1"}
    finally:
        await layer.flush()


async def test_a_batch_bigger_than_a_pipeline_arrives_whole(layer):
    channel = await layer.new_channel()
    await layer.group_add("user.7", channel)
    try:
        count = PIPELINE_CHUNK * 2 + 3
        await asyncio.to_thread(
            layer.group_send_many,
            [("user.7", {"type": "frame", "text": str(n)}) for n in range(count)],
        )
        got = [(await next_of(layer, channel))["text"] for _ in range(count)]
        assert got == [str(n) for n in range(count)]
    finally:
        await layer.flush()


async def test_leaving_unsubscribes_and_a_cancelled_receive_releases_the_channel(layer):
    kept, leaving = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("user.1", kept)
    await layer.group_add("user.2", leaving)
    waiting = asyncio.ensure_future(layer.receive(leaving))
    await asyncio.sleep(0)
    waiting.cancel()  # the consumer went away without discarding
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await layer.group_discard("user.1", kept)
    await layer.group_discard("user.1", kept)  # twice, or never joined: nothing happens
    await layer.group_discard("user.9", kept)
    try:
        assert layer.groups_joined() == set()
        await layer.group_send("user.1", {"type": "frame", "text": "late"})
        await layer.send(kept, {"type": "direct"})  # a channel is local: sent in-process
        assert await next_of(layer, kept) == {"type": "direct"}
        await layer.send("specific.gone", {"type": "dropped"})  # no such channel: dropped
    finally:
        await layer.flush()


async def test_an_unreadable_message_is_dropped_and_the_group_hears_on(layer):
    channel = await layer.new_channel()
    await layer.group_add("user.4", channel)
    try:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        await client.publish(layer.wire_name("user.4"), b"\xc1 not msgpack")
        await client.aclose()
        await layer.group_send("user.4", {"type": "frame", "text": "after"})
        assert (await next_of(layer, channel))["text"] == "after"
    finally:
        await layer.flush()


async def test_a_group_that_could_not_be_subscribed_is_not_taken_for_joined():
    layer = UserGroupsLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])
    channel = await layer.new_channel()
    with pytest.raises(redis.ConnectionError):
        await layer.group_add("user.5", channel)
    assert layer.groups_joined() == set()
