"""The shared budget: several weighted windows, waited for, never exceeded, never dropping work."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from subscriptions import refresh
from subscriptions.models import City
from weather_provider.limiter import (
    BudgetSpent,
    batch_size_within,
    budget_for,
    budget_windows,
    margin,
    provider_budget,
)

pytestmark = pytest.mark.django_db


def assert_all_refreshed(cities) -> None:
    pks = [city.pk for city in cities]
    assert City.objects.filter(pk__in=pks, latest__isnull=False).count() == len(pks)


def test_ten_cities_at_six_a_second_all_refresh_without_one_429(use_provider, follow):
    provider = use_provider("counting", budget="6/second", batch_size=1)
    provider.counter.budget = "6/second"
    cities = follow(10)
    started = time.monotonic()

    summary = refresh.refresh_followed_cities()

    elapsed = time.monotonic() - started
    assert provider.counter.refused == []
    assert (summary.calls, summary.stored, summary.failures, summary.deferred) == (10, 10, 0, 0)
    assert_all_refreshed(cities)
    # Six go at once, the other four when the first second has passed: waited, not dropped.
    assert 1.0 <= elapsed < 3.0


def test_a_weighted_provider_pays_for_every_location_in_a_batch(use_provider, follow):
    provider = use_provider("counting", budget="8/second", batch_size=4)
    provider.weight_per_location = True
    provider.counter.budget = "8/second"
    cities = follow(12)
    started = time.monotonic()

    summary = refresh.refresh_followed_cities()

    assert [call.weight for call in provider.calls] == [4, 4, 4]
    assert provider.counter.refused == []
    assert summary.stored == 12
    assert_all_refreshed(cities)
    assert time.monotonic() - started >= 1.0


def test_every_window_of_a_budget_is_respected(use_provider, follow):
    budget = "4/second;6 per 3 seconds"
    provider = use_provider("counting", budget=budget, batch_size=1)
    provider.counter.budget = budget
    cities = follow(8)
    started = time.monotonic()

    refresh.refresh_followed_cities()

    assert provider.counter.refused == []
    assert_all_refreshed(cities)
    # 4 at once, 2 more a second later, the last 2 when the 3-second window frees.
    assert time.monotonic() - started >= 3.0


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_share_one_budget(use_provider, follow):
    budget = "6 per 2 seconds"
    provider = use_provider("counting", budget=budget, batch_size=1)
    provider.counter.budget = budget
    cities = follow(12)
    halves = [[city.pk for city in cities[:6]], [city.pk for city in cities[6:]]]
    errors: list[BaseException] = []

    def worker(city_ids: list[int]) -> None:
        try:
            refresh.city_batch_refresh(city_ids=city_ids)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(half,)) for half in halves]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert provider.counter.refused == []
    assert sorted(provider.counter.cities) == sorted(halves[0] + halves[1])
    assert_all_refreshed(cities)
    assert time.monotonic() - started >= 2.0


def test_a_taken_budget_is_refused_without_taking_anything(counting, settings):
    settings.PROVIDER_RATE_LIMIT = "2/minute"
    budget = budget_for(counting)
    budget.reset()

    assert budget.try_acquire(2) == 0
    wait = budget.try_acquire(1)

    assert 59 < wait <= 61
    assert budget.used() == {"2 per 1 minute": 2}
    with pytest.raises(BudgetSpent) as refused:
        budget.acquire(1, max_wait=1)
    assert refused.value.retry_after > 59


def test_the_provider_retry_after_holds_everyone_back(counting, settings):
    settings.PROVIDER_RATE_LIMIT = "100/second"
    budget = budget_for(counting)
    budget.reset()

    budget.pause(0.3)
    started = time.monotonic()
    budget.acquire(1)

    assert time.monotonic() - started >= 0.25


def test_a_call_heavier_than_a_window_is_refused_outright(counting, settings):
    settings.PROVIDER_RATE_LIMIT = "3/second;10/minute"
    with pytest.raises(ValueError, match="can never fit"):
        budget_for(counting).try_acquire(4)


def test_a_malformed_budget_names_the_setting(counting, settings):
    settings.PROVIDER_RATE_LIMIT = "sixty a minute"
    with pytest.raises(ValueError, match="PROVIDER_RATE_LIMIT"):
        budget_for(counting)


def test_the_budget_override_wins_over_the_free_tier(counting, settings):
    assert provider_budget(counting) == "6000/minute"
    settings.PROVIDER_RATE_LIMIT = "60/minute;1000000/month"
    assert [w.amount for w in budget_windows(provider_budget(counting))] == [60, 1000000]


def test_a_batch_never_costs_more_than_the_smallest_window(counting):
    counting.batch_size = 1000
    counting.weight_per_location = True
    windows = budget_windows("600/minute;5000/hour;10000/day")

    assert batch_size_within(counting, windows) == 600
    assert batch_size_within(counting, budget_windows("6000/minute")) == 1000
    counting.weight_per_location = False
    assert batch_size_within(counting, windows) == 1000


def test_a_read_on_demand_defers_instead_of_waiting_for_a_spent_budget(use_provider, follow):
    provider = use_provider("counting", budget="1/minute")
    first, second = follow(2)
    refresh.refresh_cities([first])
    started = time.monotonic()

    summary = refresh.refresh_cities([second])

    assert time.monotonic() - started < 3
    assert (summary.calls, summary.deferred, summary.failures) == (0, 1, 0)
    second.refresh_from_db()
    assert second.latest is None
    assert not second.stale
    assert provider.counter.cities == [first.pk]


def test_the_margin_follows_the_setting_capped_at_a_tenth_of_a_window(settings):
    second, minute = budget_windows("10/second;600/minute")

    settings.PROVIDER_BUDGET_MARGIN_SECONDS = 0.03
    assert (margin(second), margin(minute)) == (0.03, 0.03)
    settings.PROVIDER_BUDGET_MARGIN_SECONDS = 2.0
    assert (margin(second), margin(minute)) == (0.1, 2.0)
    settings.PROVIDER_BUDGET_MARGIN_SECONDS = -1.0
    assert margin(second) == 0.0


def test_a_freed_slot_is_taken_only_after_the_margin_even_without_waiting(counting, settings):
    settings.PROVIDER_RATE_LIMIT = "2/second"
    settings.PROVIDER_BUDGET_MARGIN_SECONDS = 0.08
    budget = budget_for(counting)
    budget.reset()
    assert budget.try_acquire(2) == 0

    time.sleep(1.01)  # the window has passed, the margin not yet
    wait = budget.try_acquire(1)

    assert 0 < wait <= 0.08
    time.sleep(wait + 0.01)
    assert budget.try_acquire(1) == 0
