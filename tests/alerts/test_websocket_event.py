"""The `alert` event on the channel layer: once per firing, to the owner's group only, with the
contract's fields (the consumer forwards `event`)."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from notifications.evaluation import alerts_evaluate
from skywatch.events import FRAME_FIELDS
from tests.alerts.conftest import alert_on, reading
from tests.factories import CityFactory, SubscriptionFactory, UserFactory
from tests.notifications.conftest import channel_layer  # noqa: F401

EVENT_KEYS = {
    "id", "alert_id", "city", "metric", "operator", "threshold", "value", "source",
    "for_time", "fired_at", "message",
}  # fmt: skip


async def next_message(layer, channel: str, timeout: float = 2) -> dict | None:
    """The next event on the channel as a page sees it (a published frame is its JSON)."""
    try:
        message = await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        return None
    return json.loads(message["text"]) if message.get("type") == "frame" else message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_firing_reaches_the_owners_tabs_once_and_nobody_else(channel_layer):  # noqa: F811
    def world():
        owner, other = UserFactory(email="owner@example.com"), UserFactory()
        city = CityFactory(name="Paris", country="FR", timezone="Europe/Paris")
        alert_on(SubscriptionFactory(user=owner, city=city), channels=["web"])
        SubscriptionFactory(user=other, city=city)
        reading(city, temperature=-3)
        return owner, other, city

    def evaluate(city_id: int) -> None:
        with transaction.atomic():
            alerts_evaluate(city_ids=[city_id])

    owner, other, city = await database_sync_to_async(world)()
    mine, theirs = await channel_layer.new_channel(), await channel_layer.new_channel()
    await channel_layer.group_add(f"user.{owner.pk}", mine)
    await channel_layer.group_add(f"user.{other.pk}", theirs)

    await database_sync_to_async(evaluate)(city.pk)
    await database_sync_to_async(evaluate)(city.pk)  # still below: nothing more

    message = await next_message(channel_layer, mine)
    assert message["type"] == "alert"
    assert set(message) == {"type", *FRAME_FIELDS["alert"]}
    assert set(message["event"]) == EVENT_KEYS
    assert message["event"]["message"].startswith("Paris, FR: temperature -3 °C at ")
    assert await next_message(channel_layer, mine, timeout=0.5) is None
    assert await next_message(channel_layer, theirs, timeout=0.5) is None
