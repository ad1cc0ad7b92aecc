"""The event transport: the one way anything reaches a user's open pages (group `user.<id>`).

Who hears what is decided by the caller (a service, after its write commits); this module only
delivers. `notify_each` holds the only `group_send` of the project.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


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
    """Send each user its own event, a whole batch at once; failures are logged, never raised:
    a push that fails must not undo the write it reports (pages resync on reconnect)."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    sendable = [(user_group(user_id), wire_event(event)) for user_id, event in messages]
    send_many = getattr(layer, "group_send_many", None)
    if send_many is not None:
        try:
            send_many(sendable)
        except Exception:
            logger.exception("Could not notify %d users", len(messages))
        return

    async def send_all() -> int:
        failed = 0
        for group, event in sendable:
            try:
                await layer.group_send(group, event)
            except Exception:
                failed += 1
                if failed == 1:
                    logger.exception("Could not notify %s of %s", group, event.get("type"))
        return failed

    try:
        failed = async_to_sync(send_all)()
    except Exception:
        logger.exception("Could not notify %d users", len(messages))
        return
    if failed > 1:
        logger.warning("%d of %d notifications could not be sent", failed, len(messages))


# What a page sees of each event published to `user.<id>`: exactly the contract's fields.
FRAME_FIELDS = {
    "snapshot": ("subscriptions",),
    "weather": ("updates",),
    "subscription.added": ("subscription",),
    "subscription.removed": ("id",),
    "plan.changed": ("plan",),
    "forecast": ("updates",),
    "alert": ("event",),
}
FRAME = "frame"


def frame_text(event: dict) -> str:
    """The websocket frame of an event a page sees: its type and the contract's fields."""
    kind = event["type"]
    return json.dumps({"type": kind, **{name: event[name] for name in FRAME_FIELDS[kind]}})


def wire_event(event: dict) -> dict:
    """An event as published: one a page sees travels as its finished frame, encoded once here
    and forwarded as it is by every socket of the user (notifications.consumers); anything else
    (a credential re-check, say) as the event itself, for the consumer to act on."""
    if event.get("type") in FRAME_FIELDS:
        return {"type": FRAME, "text": frame_text(event)}
    return event
