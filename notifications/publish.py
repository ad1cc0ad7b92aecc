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
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for user_id in set(user_ids):
        try:
            send(user_group(user_id), event)
        except Exception:
            # A push that fails must not undo the write it reports; pages resync on reconnect.
            logger.exception("Could not notify user %s of %s", user_id, event.get("type"))


def publish_readings(city_ids: Iterable[int]) -> int:
    """One `weather` message per follower with all of their refreshed, unpaused cities."""
    from subscriptions.models import Subscription
    from subscriptions.readings import latest_reading_as_dict

    updates: dict[int, list[dict]] = defaultdict(list)
    subscriptions = Subscription.objects.filter(
        city_id__in=list(city_ids), paused=False
    ).select_related("city__latest", "user")
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
    for user_id, user_updates in updates.items():
        notify_users([user_id], {"type": "weather", "updates": user_updates})
    return len(updates)
