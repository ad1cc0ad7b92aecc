"""Provider faults against a real Celery worker: no crash, stale cards, recovery next cycle."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict

import pytest
from django.db.models import Count

from subscriptions.models import City, Observation
from tests.factories import CityFactory, SubscriptionFactory
from tests.resilience.fake_open_meteo import (
    ERROR_500,
    FAULTS,
    HEALTHY,
    MALFORMED,
    RATE_LIMITED,
    READ_TIMEOUT,
    TIMEOUT,
    current_slot,
    observed,
)
from tests.resilience.processes import wait_until

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CITIES = 12  # three calls of four cities, two of them at once (concurrency 2)
ATTEMPTS = 3  # WEATHER_RETRY_ATTEMPTS' default
BREAKER_THRESHOLD = 5  # WEATHER_BREAKER_THRESHOLD's default
ERRORS = {
    TIMEOUT: "did not answer in time",
    ERROR_500: "not answering properly (HTTP 500)",
    RATE_LIMITED: "request limit is spent for now",
    MALFORMED: "could not be read",
}


@pytest.fixture
def followed(bob, alice):
    """Twelve cities: bob (premium) follows them all, alice three of them."""
    cities = CityFactory.create_batch(CITIES)
    for city in cities:
        SubscriptionFactory(user=bob, city=city)
    for city in cities[:3]:
        SubscriptionFactory(user=alice, city=city)
    return cities


def states() -> list[dict]:
    return list(
        City.objects.order_by("pk").values(
            "pk", "stale", "last_error", "last_refreshed_at", "latest__observed_at"
        )
    )


def cycle(beat, done, *, what: str, timeout: float = 60) -> None:
    """One beat tick, then wait until the worker is idle and `done(states())` holds."""
    beat.tick()
    wait_until(lambda: beat.idle() and done(states()), timeout=timeout, what=what)


def readings_per_city() -> dict[int, int]:
    rows = Observation.objects.values("city_id").annotate(n=Count("id"))
    return {row["city_id"]: row["n"] for row in rows}


def calls_per_batch(calls) -> dict[tuple, list]:
    """The calls the fake received, grouped by the cities they asked for (one group a batch)."""
    batches = defaultdict(list)
    for call in calls:
        batches[tuple(call.coordinates)].append(call)
    return batches


def subscriptions_via_api(client, user) -> list[dict]:
    client.force_login(user)
    response = client.get("/api/subscriptions")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("fault", FAULTS)
def test_a_provider_fault_leaves_every_card_stale_and_the_next_cycle_recovers_them(
    fault, pipeline, beat, fake_open_meteo, followed, bob, client
):
    fake = fake_open_meteo
    first, second = current_slot() - 900, current_slot()
    fake.set(HEALTHY, observed_at=first, temperature=7.4)
    worker = pipeline.worker(concurrency=2)
    cycle(
        beat,
        lambda rows: all(r["latest__observed_at"] == observed(first) for r in rows),
        what="the first cycle to store every city",
    )

    fake.set(fault, retry_after=1)
    fault_started = time.monotonic()
    cycle(
        beat,
        lambda rows: all(r["stale"] for r in rows),
        what=f"every city to turn stale on {fault}",
    )
    fault_seconds = time.monotonic() - fault_started

    # No crash: the worker lives on and logged no unexpected exception.
    assert worker.running
    assert "Traceback" not in worker.output()
    rows = states()
    assert all(r["latest__observed_at"] == observed(first) for r in rows)  # last reading kept
    errors = {r["last_error"] for r in rows}
    assert any(ERRORS[fault] in error for error in errors), errors
    assert readings_per_city() == {city.pk: 1 for city in followed}  # nothing invented
    api = subscriptions_via_api(client, bob)
    assert len(api) == CITIES
    assert all(item["latest"]["stale"] is True for item in api)
    assert all(item["latest"]["temperature"] == 7.4 for item in api)

    # The provider is not hammered: the circuit opens after the threshold and stops the rest.
    calls = fake.calls_since(fault_started)
    assert BREAKER_THRESHOLD <= len(calls) <= BREAKER_THRESHOLD + 1, len(calls)
    assert any("calls are paused" in error for error in errors), errors
    for batch in calls_per_batch(calls).values():
        assert len(batch) <= ATTEMPTS
        gaps = [b.received_at - a.received_at for a, b in itertools.pairwise(batch)]
        if fault == RATE_LIMITED:
            assert all(gap >= 0.95 for gap in gaps), gaps  # Retry-After: 1 is honoured
        if fault == TIMEOUT:
            assert all(gap >= READ_TIMEOUT for gap in gaps), gaps  # the client gave up itself
    assert fault_seconds < 20

    # The next cycle, once the circuit's cooldown is over, brings every card back.
    fake.set(HEALTHY, observed_at=second, temperature=9.9)
    wait_until(
        lambda: not beat.redis.keys("skywatch:breaker:*:open"),
        timeout=10,
        what="the circuit to close",
    )
    cycle(
        beat,
        lambda rows: all(
            not r["stale"] and r["latest__observed_at"] == observed(second) for r in rows
        ),
        what="the next cycle to refresh every city",
    )

    assert all(r["last_error"] == "" for r in states())
    assert readings_per_city() == {city.pk: 2 for city in followed}
    api = subscriptions_via_api(client, bob)
    assert all(item["latest"]["stale"] is False for item in api)
    assert all(item["latest"]["temperature"] == 9.9 for item in api)
    assert "Traceback" not in worker.output()
