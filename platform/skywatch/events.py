"""The event transport: the one way anything reaches a user's open pages (group `user.<id>`).

Who hears what is decided by the caller (a service, after its write commits); this module only
delivers. `_deliver` holds the only `group_send` of the project.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# PUBLISH commands per pipeline: one round trip carries a few hundred KiB at most.
PIPELINE_CHUNK = 500


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def notify_users(user_ids: Iterable[int], event: dict) -> None:
    """Send `event` to every open page of each user, now; see `notify_users_on_commit`."""
    notify_each([(user_id, event) for user_id in dict.fromkeys(user_ids)])


def notify_users_on_commit(user_ids: Iterable[int], event: dict) -> None:
    """Send `event` once the current transaction commits (at once outside of one)."""
    recipients = list(user_ids)
    transaction.on_commit(lambda: notify_users(recipients, event))


def notify_each(messages: list[tuple[int, dict]]) -> None:
    """Send each user its own event, a whole batch in one event loop; failures are logged, never
    raised: a push that fails must not undo the write it reports (pages resync on reconnect)."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all() -> int:
        if _pipelines(layer):
            await _publish_pipelined(layer, messages)
            return 0
        failed = 0
        for user_id, event in messages:
            try:
                await layer.group_send(user_group(user_id), event)
            except Exception:
                failed += 1
                if failed == 1:
                    logger.exception("Could not notify user %s of %s", user_id, event.get("type"))
        return failed

    try:
        failed = async_to_sync(send_all)()
    except Exception:
        logger.exception("Could not notify %d users", len(messages))
        return
    if failed > 1:
        logger.warning("%d of %d notifications could not be sent", failed, len(messages))


def _pipelines(layer) -> bool:
    """channels-redis' PubSub layer (pinned) offers no batch send, but its shards can pipeline."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    return isinstance(layer, RedisPubSubChannelLayer) and hasattr(layer, "_get_layer")


async def _publish_pipelined(layer, messages: list[tuple[int, dict]]) -> None:
    """What group_send does for each message, with every PUBLISH of a shard in one round trip
    instead of one each (bench/fanout.py: 250 µs a user before, on a loaded 2-core box)."""
    loop_layer = layer._get_layer()
    shards: dict = defaultdict(list)
    for user_id, event in messages:
        channel = loop_layer._get_group_channel_name(user_group(user_id))
        shards[loop_layer._get_shard(channel)].append((channel, layer.serialize(event)))
    for shard, items in shards.items():
        for start in range(0, len(items), PIPELINE_CHUNK):
            async with shard._lock:
                shard._ensure_redis()
                pipe = shard._redis.pipeline(transaction=False)
                for channel, data in items[start : start + PIPELINE_CHUNK]:
                    pipe.publish(channel, data)
                await pipe.execute()
