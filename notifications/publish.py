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
    from subscriptions.models import Subscription
    from subscriptions.readings import latest_reading_as_dict

    updates: dict[int, list[dict]] = defaultdict(list)
    subscriptions = (
        Subscription.objects.filter(city_id__in=list(city_ids), paused=False)
        .select_related("city__latest", "user")
        .order_by("user_id", "created_at", "id")
    )
    for subscription in subscriptions:
        reading = latest_reading_as_dict(subscription.city, units=subscription.user.units)
        if reading is None:
            continue
        updates[subscription.user_id].append(
            {
                "subscription_id": subscription.pk,
                "city_id": subscription.city_id,
                "reading": reading,
            }
        )
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
