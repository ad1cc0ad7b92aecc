"""The channel layer: groups shared by every web process over Redis pub/sub, channels local.

Skywatch only ever sends to groups (`user.<id>`, skywatch.events); a consumer's own channel is
never addressed from another process. So a channel here is a queue in this process, made
without a trip to Redis, and a group is one Redis pub/sub channel this process subscribes to
while at least one of its sockets is in the group: a reconnect storm costs one SUBSCRIBE per
user, written without waiting for an answer, and no lock shared with the publishers.

Publishing has a batch form for the pipeline, `group_send_many`: every PUBLISH of a refresh
batch in one pipelined round trip per few hundred, from the synchronous code that stores the
batch, with no event loop to start. It and everything else here use only redis-py's public API
(channels-redis' PubSub layer offers no batch send, and reaching into its private attributes
broke silently on upgrades).

Pub/sub stores nothing: what was published while this process had lost Redis is gone. redis-py
reconnects and subscribes again; every local channel in a group then gets a `resync` event,
which the consumer answers with a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
import weakref

import msgpack
import redis
import redis.asyncio
from channels.layers import BaseChannelLayer
from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

RESYNC_EVENT = {"type": "resync"}
# PUBLISH commands per pipeline: one round trip carries a few hundred KiB at most.
PIPELINE_CHUNK = 500
READ_TIMEOUT_SECONDS = 1.0
SEND_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)


class ResyncingPubSub(PubSub):
    """redis-py's PubSub, calling `on_reconnect` once it has subscribed again after a reconnect."""

    def __init__(self, *args, on_reconnect, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_reconnect = on_reconnect

    async def on_connect(self, connection) -> None:
        # Registered after the first connection is made, so every call here is a reconnect.
        await super().on_connect(connection)
        self.on_reconnect()


class _LoopState:
    """What one event loop holds: its channels' queues, its groups, its Redis connections."""

    def __init__(self, layer: UserGroupsLayer) -> None:
        self.layer = layer
        self.client = redis.asyncio.Redis.from_url(layer.url, **layer.connection_options)
        self.pubsub = ResyncingPubSub(self.client.connection_pool, on_reconnect=self.resync)
        self.channels: dict[str, asyncio.Queue] = {}
        self.groups: dict[str, set[str]] = {}
        # The other way round, so that a channel leaving costs its own groups, not all of them.
        self.memberships: dict[str, set[str]] = {}
        self.send_lock = asyncio.Lock()
        self.reader: asyncio.Task | None = None

    def resync(self) -> None:
        members = set().union(*self.groups.values()) if self.groups else set()
        logger.warning("Redis pub/sub is back; %d open sockets resync", len(members))
        for channel in members:
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(dict(RESYNC_EVENT))

    async def subscribe(self, group: str) -> None:
        async with self.send_lock:
            await self.pubsub.subscribe(self.layer.wire_name(group))
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self.read())

    async def unsubscribe(self, group: str) -> None:
        async with self.send_lock:
            await self.pubsub.unsubscribe(self.layer.wire_name(group))

    async def read(self) -> None:
        """Hand every message of a subscribed group to the group's local channels."""
        failures = 0
        while self.groups or self.pubsub.subscribed:
            try:
                message = await self.pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READ_TIMEOUT_SECONDS
                )
                failures = 0
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                if failures == 0:
                    logger.warning("Redis pub/sub was lost (%s); retrying", exc)
                failures += 1
                await asyncio.sleep(wait)
                continue
            if message is None or message.get("type") != "message":
                continue
            group = self.layer.group_of(message["channel"])
            members = self.groups.get(group)
            if not members:
                continue
            try:
                event = msgpack.unpackb(message["data"])
            except ValueError:
                # Not one of ours (someone else publishing under the prefix): the reader, and
                # every socket of this process with it, must not stop over it.
                logger.warning("Dropped an unreadable message on %s", group)
                continue
            for channel in members:
                queue = self.channels.get(channel)
                if queue is not None:
                    queue.put_nowait(event)

    def join(self, group: str, channel: str) -> bool:
        """Put a channel in a group; whether the group had no member here before."""
        self.channels.setdefault(channel, asyncio.Queue())
        members = self.groups.setdefault(group, set())
        first = not members
        members.add(channel)
        self.memberships.setdefault(channel, set()).add(group)
        return first

    def leave(self, group: str, channel: str) -> bool:
        """Take a channel out of a group; whether the group is now empty here."""
        self.memberships.get(channel, set()).discard(group)
        members = self.groups.get(group)
        if members is None:
            return False
        members.discard(channel)
        if members:
            return False
        del self.groups[group]
        return True

    def forget(self, channel: str) -> list[str]:
        """Drop a channel; the groups it leaves empty (to unsubscribe)."""
        self.channels.pop(channel, None)
        groups = self.memberships.pop(channel, set())
        return [group for group in groups if self.leave(group, channel)]


class UserGroupsLayer(BaseChannelLayer):
    """Groups across processes through Redis pub/sub; channels local to their process."""

    extensions = ["groups", "flush"]

    def __init__(self, hosts=None, prefix: str = "skywatch", **kwargs) -> None:
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("expiry", "capacity")})
        host = (hosts or ["redis://127.0.0.1:6379/0"])[0]
        self.url = host if isinstance(host, str) else host["address"]
        self.prefix = f"{prefix}:group:"
        self.connection_options = {"socket_connect_timeout": 2}
        self._states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._sync_client: redis.Redis | None = None
        self._sync_lock = threading.Lock()

    # Names on the wire.
    def wire_name(self, group: str) -> str:
        return f"{self.prefix}{group}"

    def group_of(self, wire: bytes | str) -> str:
        name = wire.decode() if isinstance(wire, bytes) else wire
        return name[len(self.prefix) :]

    @staticmethod
    def serialize(message: dict) -> bytes:
        return msgpack.packb(message, use_bin_type=True)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState(self)
        return state

    # Channels: local queues.
    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{prefix}{uuid.uuid4().hex}"
        self._state().channels[channel] = asyncio.Queue()
        return channel

    async def send(self, channel: str, message: dict) -> None:
        self.require_valid_channel_name(channel)
        queue = self._state().channels.get(channel)
        if queue is not None:
            queue.put_nowait(message)

    async def receive(self, channel: str) -> dict:
        state = self._state()
        queue = state.channels.get(channel)
        if queue is None:
            queue = state.channels[channel] = asyncio.Queue()
        try:
            return await queue.get()
        except asyncio.CancelledError:
            # A cancelled receive is a consumer going away: its channel and memberships go too.
            for group in state.forget(channel):
                await _quietly(state.unsubscribe(group))
            raise

    # Groups: one Redis pub/sub channel each.
    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        state = self._state()
        if state.join(group, channel):
            try:
                await state.subscribe(group)
            except BaseException:
                # Not subscribed: a later member must try again, not take it for done.
                state.leave(group, channel)
                raise

    async def group_discard(self, group: str, channel: str) -> None:
        state = self._state()
        if state.leave(group, channel):
            await _quietly(state.unsubscribe(group))

    async def group_send(self, group: str, message: dict) -> None:
        self.require_valid_group_name(group)
        await self._state().client.publish(self.wire_name(group), self.serialize(message))

    def group_send_many(self, messages: list[tuple[str, dict]]) -> None:
        """Publish each (group, message), pipelined; synchronous, for the code that stores."""
        with self._sync_lock:
            if self._sync_client is None:
                # A hung Redis must not hold the pipeline that stored the batch for ever.
                self._sync_client = redis.Redis.from_url(
                    self.url, socket_timeout=SEND_TIMEOUT_SECONDS, **self.connection_options
                )
        client = self._sync_client
        for start in range(0, len(messages), PIPELINE_CHUNK):
            pipe = client.pipeline(transaction=False)
            for group, message in messages[start : start + PIPELINE_CHUNK]:
                pipe.publish(self.wire_name(group), self.serialize(message))
            pipe.execute()

    def groups_joined(self) -> set[str]:
        """The groups some channel of this event loop is in."""
        return {group for group, members in self._state().groups.items() if members}

    async def flush(self) -> None:
        state = self._state()
        for group in list(state.groups):
            await _quietly(state.unsubscribe(group))
        state.groups.clear()
        state.memberships.clear()
        state.channels.clear()


async def _quietly(operation) -> None:
    """Leaving a group while Redis is away: the reconnect subscribes only to live groups."""
    try:
        await operation
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        logger.info("Could not unsubscribe while Redis is away", exc_info=True)
