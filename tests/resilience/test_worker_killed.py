"""A Celery worker killed with SIGKILL mid-cycle: no reading lost or doubled, all fresh next cycle."""

from __future__ import annotations

import os
import signal

import pytest
from django.db.models import Count

from subscriptions import coordination
from subscriptions.models import City, Observation
from tests.factories import CityFactory, SubscriptionFactory
from tests.resilience.fake_open_meteo import (
    HEALTHY,
    READ_TIMEOUT_ENV,
    SLOW,
    current_slot,
    observed,
)
from tests.resilience.processes import wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CITIES = 12  # three batches of four
SLOW_SECONDS = 3.0  # the window in which the kill lands: the batch is in flight that long


@pytest.fixture
def slow_pipeline(pipeline):
    """The provider waits long enough for a slow answer: slow, not failing."""
    pipeline.env[READ_TIMEOUT_ENV] = str(SLOW_SECONDS * 3)
    return pipeline


@pytest.fixture
def followed(bob):
    cities = CityFactory.create_batch(CITIES)
    for city in cities:
        SubscriptionFactory(user=bob, city=city)
    return cities


def observed_times() -> dict[int, list]:
    """Each city's stored observation times, oldest first."""
    times: dict[int, list] = {}
    for city_id, at in Observation.objects.order_by("observed_at").values_list(
        "city_id", "observed_at"
    ):
        times.setdefault(city_id, []).append(at)
    return times


def assert_no_duplicate_readings() -> None:
    duplicated = (
        Observation.objects.values("city_id", "observed_at").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert list(duplicated) == []


def fresh_cities(at: int) -> list[City]:
    """The cities whose latest reading was observed at `at`, in id order."""
    return list(City.objects.filter(latest__observed_at=observed(at)).order_by("pk"))


def fresh(at: int) -> bool:
    return not City.objects.exclude(latest__observed_at=observed(at)).exists()


def test_a_worker_killed_mid_cycle_loses_no_city_and_the_next_cycle_refreshes_every_one(
    slow_pipeline, beat, fake_open_meteo, followed
):
    fake = fake_open_meteo
    first, second = current_slot() - 900, current_slot()
    stored, lost, queued = followed[:4], followed[4:8], followed[8:]  # stalest first, by id
    fake.set(SLOW, delay=SLOW_SECONDS, observed_at=first)
    worker = slow_pipeline.worker(concurrency=1)
    beat.tick()
    # One batch answered and stored, the next one in flight at the provider: kill the worker
    # and its pool, as the OOM killer or a lost node would.
    wait_until(
        lambda: len(fake.answered()) == 1 and len(fake.calls) == 2,
        timeout=60,
        what="the second batch to be in flight",
    )
    wait_until(lambda: fresh_cities(first) == stored, timeout=10, what="the first batch stored")
    worker.kill()

    # A new worker takes the batch still queued; the killed one stays unacknowledged.
    fake.set(HEALTHY, observed_at=first)
    replacement = slow_pipeline.worker(concurrency=1)
    wait_until(
        lambda: fresh_cities(first) == stored + queued,
        timeout=30,
        what="the new worker to refresh the queued batch",
    )
    # Beat's next tick comes an interval later, once nobody renews the lost batch's lease.
    wait_until(
        lambda: not beat.redis.exists(coordination.PENDING_KEY),
        timeout=15,
        what="the killed batch to stop holding the next cycle back",
    )
    fake.set(HEALTHY, observed_at=second)
    calls_before = len(fake.calls)
    beat.tick()
    wait_until(lambda: fresh_cities(second) == followed, timeout=60, what="the next cycle")

    assert replacement.running
    assert_no_duplicate_readings()
    times = observed_times()
    assert all(times[city.pk] == [observed(first), observed(second)] for city in stored + queued)
    assert all(times[city.pk] == [observed(second)] for city in lost)
    # The next cycle asked for every city exactly once.
    asked = [coordinates for call in fake.calls[calls_before:] for coordinates in call.coordinates]
    assert len(asked) == len(set(asked)) == CITIES


def test_a_pool_process_killed_mid_batch_has_its_batch_redelivered_at_once(
    slow_pipeline, beat, fake_open_meteo, followed
):
    fake = fake_open_meteo
    first, second = current_slot() - 900, current_slot()
    fake.set(SLOW, delay=SLOW_SECONDS, observed_at=first)
    worker = slow_pipeline.worker(concurrency=1)
    beat.tick()
    wait_until(
        lambda: len(fake.answered()) == 1 and len(fake.calls) == 2,
        timeout=60,
        what="the second batch to be in flight",
    )
    (pool_process,) = worker.children()
    os.kill(pool_process, signal.SIGKILL)

    # reject_on_worker_lost puts the batch back at once; a new pool process reads it again.
    wait_until(
        lambda: fresh(first) and beat.idle(),
        timeout=60,
        what="every city stored without another cycle",
    )
    assert worker.running
    assert "WorkerLostError" in worker.output()
    batches = {}
    for call in fake.calls:
        batches.setdefault(tuple(call.coordinates), []).append(call)
    calls_per_batch = sorted(len(calls) for calls in batches.values())
    assert calls_per_batch == [1, 1, 2]  # only the killed batch was asked for twice

    fake.set(HEALTHY, observed_at=second)
    beat.tick()
    wait_until(
        lambda: fresh(second) and beat.idle(),
        timeout=60,
        what="every city fresh after the next cycle",
    )
    assert_no_duplicate_readings()
    times = observed_times()
    assert all(times[city.pk] == [observed(first), observed(second)] for city in followed)
