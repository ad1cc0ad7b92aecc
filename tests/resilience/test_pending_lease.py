"""Regression: batches lost with a killed worker hold the next cycle back only for a short lease.

Before, they counted as pending for three intervals (15 minutes at the default), so after a
worker was killed no city at all was refreshed for that long.
"""

from __future__ import annotations

import time

import pytest

from subscriptions import refresh
from subscriptions.coordination import coordination_reset, pending_batches
from tests.factories import CityFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

# Long enough that a heartbeat (every third of it) is never late on a loaded 2-core box.
LEASE = 2.0


def forget_pending() -> None:
    coordination_reset()


@pytest.fixture
def followed(settings):
    settings.WEATHER_PENDING_LEASE_SECONDS = LEASE
    settings.FORECAST_REFRESH_SECONDS = 0  # one batch of readings a cycle, nothing else
    forget_pending()
    cities = CityFactory.create_batch(2)
    for city in cities:
        SubscriptionFactory(city=city)
    yield cities
    forget_pending()


def fan_out(queued: list) -> int:
    return refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task))


def test_batches_nobody_runs_stop_holding_the_next_cycle_back_after_the_lease(followed):
    queued: list = []

    assert fan_out(queued) == 1
    assert fan_out(queued) == 0  # the batch is pending: its worker may still be on it
    # ...but no worker renews its lease (it died with the batch), so the lease lapses.
    deadline = time.monotonic() + 10 * LEASE
    while pending_batches() and time.monotonic() < deadline:
        time.sleep(0.05)

    assert fan_out(queued) == 1
    assert [task[0] for task in queued] == [[city.pk for city in followed]] * 2


def test_a_running_batch_keeps_its_cycle_pending_past_the_lease(followed, monkeypatch):
    queued: list = []
    during: list = []

    def slow_batch(cities, **kwargs):
        time.sleep(2 * LEASE)  # the lease would have lapsed twice over without its heartbeat
        during.append(fan_out(queued))
        return refresh.RefreshSummary()

    monkeypatch.setattr(refresh, "refresh_cities", slow_batch)
    fan_out(queued)
    (city_ids, enqueued_at, _kind), *_ = queued

    refresh.city_batch_refresh(city_ids=city_ids, enqueued_at=enqueued_at)

    assert during == [0]
    assert fan_out(queued) == 1  # finished: the next cycle goes at once
