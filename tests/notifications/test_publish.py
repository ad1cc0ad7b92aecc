"""notify_users and readings_publish: who hears what, in how many messages and queries."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async

from skywatch import events
from skywatch.events import notify_users
from subscriptions import events as subscription_events
from subscriptions.events import readings_publish
from subscriptions.models import City
from subscriptions.services import subscription_delete
from tests.factories import CityFactory, ObservationFactory, SubscriptionFactory, UserFactory


def city_with_reading(**fields) -> City:
    city = CityFactory(**fields)
    City.objects.filter(pk=city.pk).update(latest=ObservationFactory(city=city))
    city.refresh_from_db()
    return city


async def next_message(layer, channel: str, timeout: float = 2) -> dict | None:
    """The next event on the channel as a page sees it (a published frame is its JSON)."""
    try:
        message = await asyncio.wait_for(layer.receive(channel), timeout)
    except TimeoutError:
        return None
    return json.loads(message["text"]) if message.get("type") == "frame" else message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_user_named_twice_hears_the_event_once(channel_layer):
    channel = await channel_layer.new_channel()
    await channel_layer.group_add("user.5", channel)

    await database_sync_to_async(notify_users)([5, 5], {"type": "plan.changed", "plan": {}})

    assert await next_message(channel_layer, channel) == {"type": "plan.changed", "plan": {}}
    assert await next_message(channel_layer, channel, timeout=0.3) is None


def test_a_broken_channel_layer_never_breaks_the_write_it_reports(monkeypatch, caplog):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(events, "get_channel_layer", BrokenLayer)

    # From a plain thread, as a worker or a sync view calls it (no event loop running there).
    with (
        caplog.at_level(logging.WARNING, logger="skywatch.events"),
        ThreadPoolExecutor(1) as thread,
    ):
        thread.submit(notify_users, [1, 2, 3], {"type": "plan.changed", "plan": {}}).result()

    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]
    assert "3 of 3 notifications could not be sent" in caplog.records[-1].getMessage()


def test_readings_publish_finds_every_follower_in_one_query(
    db, monkeypatch, django_assert_num_queries
):
    sent: list[list[tuple[int, dict]]] = []
    monkeypatch.setattr(subscription_events, "notify_each", sent.append)
    cities = [city_with_reading() for _ in range(4)]
    users = [UserFactory(plan_id="premium") for _ in range(5)]
    for user in users:
        for city in cities:
            SubscriptionFactory(user=user, city=city)

    with django_assert_num_queries(1):
        assert readings_publish([city.pk for city in cities]) == 5

    [messages] = sent
    assert sorted(user_id for user_id, _ in messages) == sorted(user.pk for user in users)
    for _, event in messages:
        assert event["type"] == "weather"
        assert [u["city_id"] for u in event["updates"]] == [city.pk for city in cities]


def test_readings_publish_skips_paused_subscriptions_and_cities_without_a_reading(
    db, monkeypatch, alice, bob
):
    sent: list[list[tuple[int, dict]]] = []
    monkeypatch.setattr(subscription_events, "notify_each", sent.append)
    read, unread = city_with_reading(), CityFactory()
    SubscriptionFactory(user=alice, city=read, paused=True)
    SubscriptionFactory(user=alice, city=unread)
    followed = SubscriptionFactory(user=bob, city=read)

    assert readings_publish([read.pk, unread.pk]) == 1

    [[(user_id, event)]] = sent
    assert user_id == bob.pk
    assert [u["subscription_id"] for u in event["updates"]] == [followed.pk]


def test_readings_are_pushed_in_each_users_units(db, monkeypatch, alice, bob):
    sent: list[list[tuple[int, dict]]] = []
    monkeypatch.setattr(subscription_events, "notify_each", sent.append)
    bob.units = "imperial"
    bob.save(update_fields=["units"])
    city = city_with_reading()
    SubscriptionFactory(user=alice, city=city)
    SubscriptionFactory(user=bob, city=city)

    readings_publish([city.pk])

    units = {user_id: event["updates"][0]["reading"]["units"] for user_id, event in sent[0]}
    assert units == {alice.pk: "metric", bob.pk: "imperial"}


def test_removing_a_city_with_nothing_paused_sends_only_subscription_removed_with_a_numeric_id(
    db, monkeypatch, django_capture_on_commit_callbacks, alice
):
    sent: list[tuple[list[int], dict]] = []
    monkeypatch.setattr(events, "notify_users", lambda ids, event: sent.append((ids, event)))
    subscription = SubscriptionFactory(user=alice)

    with django_capture_on_commit_callbacks(execute=True):
        # As the API passes it: captured from the URL, a string.
        subscription_delete(user=alice, subscription_id=str(subscription.pk))

    assert sent == [([alice.pk], {"type": "subscription.removed", "id": subscription.pk})]
