"""channels-redis' pub/sub layer, plus a `resync` event to open sockets once Redis is back.

Pub/sub stores nothing: what was published while this process had lost Redis is gone for good.
channels-redis reconnects and subscribes again by itself but tells no consumer, so an open page
would carry on without the events it missed. This layer then sends every socket that joined a
group a `resync` event, which the consumer answers with a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts
from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

RESYNC_EVENT = {"type": "resync"}


class ResyncingPubSub(PubSub):
    """redis-py's PubSub, calling `on_reconnect` once it has subscribed again after a reconnect."""

    def __init__(self, *args, on_reconnect, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_reconnect = on_reconnect

    async def on_connect(self, connection) -> None:
        # Registered after the first connection is made, so every call here is a reconnect.
        await super().on_connect(connection)
        self.on_reconnect()


class ResyncingShardConnection(RedisSingleShardConnection):
    """One Redis host's connections, whose pub/sub connection resyncs sockets when it comes back."""

    def _ensure_redis(self) -> None:
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = ResyncingPubSub(
                self._redis.connection_pool, on_reconnect=self._resync_group_members
            )

    def _resync_group_members(self) -> None:
        layer = self.channel_layer
        members = set().union(*layer.groups.values())
        logger.warning("Redis pub/sub is back; %d open sockets resync", len(members))
        message = layer.channel_layer.serialize(RESYNC_EVENT)
        for channel in members:
            queue = layer.channels.get(channel)
            if queue is not None:
                queue.put_nowait(message)


class ResyncingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, **kwargs) -> None:
        super().__init__(hosts, **kwargs)
        self._shards = [ResyncingShardConnection(host, self) for host in decode_hosts(hosts)]


class RedisPubSubResyncLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose per-loop layers send `resync` after a Redis outage."""

    def _get_layer(self) -> ResyncingLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = ResyncingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
