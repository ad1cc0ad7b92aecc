"""The one way anything reaches a user's open pages: events to the group `user.<id>`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def notify_users(user_ids: Iterable[int], event: dict) -> None:
    """Send `event` to every open page of each user; call it after commit."""
    _deliver([(user_id, event) for user_id in dict.fromkeys(user_ids)])


def publish_readings(city_ids: Iterable[int]) -> int:
    """One `weather` message per follower with all of their refreshed, unpaused cities."""
    from subscriptions.models import Observation, Subscription
    from subscriptions.readings import READING_FIELDS, reading_as_dict

    updates: dict[int, list[dict]] = defaultdict(list)
    # Plain columns, and each city's reading built once per units: a batch has hundreds of
    # followers but 100 cities (bench/fanout.py: model rows cost more than the sends).
    rows = (
        Subscription.objects.filter(city_id__in=list(city_ids), paused=False)
        .order_by("user_id", "created_at", "id")
        .values_list(
            "pk",
            "user_id",
            "city_id",
            "user__units",
            "city__stale",
            "city__latest_id",
            *(f"city__latest__{name}" for name in READING_FIELDS),
        )
    )
    readings: dict[tuple[int, str], dict] = {}
    for pk, user_id, city_id, units, stale, latest_id, *values in rows:
        if latest_id is None:
            continue
        reading = readings.get((city_id, units))
        if reading is None:
            latest = Observation(pk=latest_id, **dict(zip(READING_FIELDS, values, strict=True)))
            reading = readings[(city_id, units)] = reading_as_dict(latest, units=units, stale=stale)
        updates[user_id].append({"subscription_id": pk, "city_id": city_id, "reading": reading})
    _deliver(
        [(user_id, {"type": "weather", "updates": batch}) for user_id, batch in updates.items()]
    )
    return len(updates)


def _deliver(messages: list[tuple[int, dict]]) -> None:
    """The only `group_send`: a whole batch in one event loop (bench/channel_layer_fanout.py)."""
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
                # A push that fails must not undo the write it reports; pages resync on reconnect.
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


# PUBLISH commands per pipeline: one round trip carries a few hundred KiB at most.
PIPELINE_CHUNK = 500


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
