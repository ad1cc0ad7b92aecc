"""The refresh service: followed cities once each, stalest first, batched, stored, published."""

from __future__ import annotations

import pytest
from django.test import override_settings

from subscriptions import events as subscription_events
from subscriptions import planning, refresh
from subscriptions.models import City, Observation
from subscriptions.readings import latest_reading_as_dict
from tests.factories import CityFactory, SubscriptionFactory, UserFactory, hours_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """The city ids of every readings_publish call, which still does its real work."""
    calls: list[list[int]] = []
    real = subscription_events.readings_publish

    def recording(city_ids):
        calls.append(sorted(city_ids))
        return real(city_ids)

    monkeypatch.setattr(subscription_events, "readings_publish", recording)
    return calls


def test_two_followers_of_one_city_cost_one_call_for_one_location(counting, alice, bob):
    city = CityFactory()
    SubscriptionFactory(user=alice, city=city)
    SubscriptionFactory(user=bob, city=city)

    summary = refresh.refresh_followed_cities()

    assert [call.ids for call in counting.calls] == [[city.pk]]
    assert summary.cities == 1
    assert Observation.objects.filter(city=city).count() == 1


def test_seven_cities_in_batches_of_three_take_three_calls(use_provider, follow):
    provider = use_provider("counting", batch_size=3)
    follow(7)

    summary = refresh.refresh_followed_cities()

    assert [len(call.ids) for call in provider.calls] == [3, 3, 1]
    assert (summary.cities, summary.calls, summary.stored) == (7, 3, 7)


def test_paused_subscriptions_are_not_refreshed(counting, follow, alice):
    followed = follow(2)
    paused = follow(1, user=alice, paused=True)

    refresh.refresh_followed_cities()

    assert sorted(counting.counter.cities) == sorted(city.pk for city in followed)
    assert paused[0].observations.count() == 0


def test_a_city_followed_paused_by_one_and_active_by_another_is_refreshed(counting, alice, bob):
    city = CityFactory()
    SubscriptionFactory(user=alice, city=city, paused=True)
    SubscriptionFactory(user=bob, city=city)

    refresh.refresh_followed_cities()

    assert counting.counter.cities == [city.pk]


def test_cities_nobody_follows_are_not_refreshed(counting, follow):
    CityFactory()
    followed = follow(1)

    refresh.refresh_followed_cities()

    assert counting.counter.cities == [followed[0].pk]


def test_the_stalest_cities_are_read_first(use_provider, follow):
    provider = use_provider("counting", batch_size=1)
    fresh, old, never = follow(3)
    City.objects.filter(pk=fresh.pk).update(last_refreshed_at=hours_ago(1))
    City.objects.filter(pk=old.pk).update(last_refreshed_at=hours_ago(5))

    refresh.refresh_followed_cities()

    assert provider.counter.cities == [never.pk, old.pk, fresh.pk]


def test_each_reading_is_stored_and_becomes_the_city_latest(counting, follow):
    (city,) = follow(1)

    refresh.refresh_followed_cities()

    city.refresh_from_db()
    assert city.latest == Observation.objects.get(city=city)
    assert city.latest.provider == "counting"
    assert city.last_refreshed_at is not None
    assert latest_reading_as_dict(city, units="metric")["stale"] is False


def test_each_stored_batch_is_published_once_after_commit(
    use_provider, follow, published, django_capture_on_commit_callbacks
):
    use_provider("counting", batch_size=2)
    user = UserFactory()
    cities = follow(3, user=user)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refresh.refresh_followed_cities()

    assert len(callbacks) == 2
    ids = sorted(city.pk for city in cities)
    assert sorted(published) == sorted([ids[:2], ids[2:]])


def test_a_missing_reading_marks_only_that_city_stale(counting, follow):
    good, missing = follow(2)
    counting.missing = {missing.pk}

    summary = refresh.refresh_followed_cities()

    good.refresh_from_db()
    missing.refresh_from_db()
    assert (summary.stored, summary.failures) == (1, 1)
    assert not good.stale
    assert missing.stale
    assert missing.last_error == refresh.NO_READING


def test_nothing_to_refresh_is_a_success(counting):
    summary = refresh.refresh_followed_cities()

    assert (summary.cities, summary.calls) == (0, 0)
    assert planning.refresh_status()["last_success_at"] is not None


def test_refresh_status_tells_the_configured_and_effective_interval(
    counting, follow, refresh_every
):
    refresh_every(120)
    follow(2)

    status = planning.refresh_status()

    assert status["last_success_at"] is None
    assert status["interval_seconds"] == 120
    assert status["effective_interval_seconds"] == 120
    assert status["followed_cities"] == 2
    assert status["stretched"] is False


def test_refresh_status_still_answers_when_redis_does_not(counting):
    with override_settings(REDIS_URL="redis://127.0.0.1:8139/0"):  # nothing listens there
        status = planning.refresh_status()

    assert status["circuit_open_seconds"] is None
    assert status["interval_seconds"] > 0
