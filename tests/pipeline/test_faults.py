"""Faults: retries with backoff honouring Retry-After, a shared circuit breaker, stale cities."""

from __future__ import annotations

import logging
import time

import pytest
import redis
from django.conf import settings as django_settings

from skywatch.errors import ProviderUnavailable, Throttled
from subscriptions import events as subscription_events
from subscriptions import on_demand, refresh
from subscriptions.readings import latest_reading_as_dict
from tests.factories import ObservationFactory
from weather_provider import ProviderError
from weather_provider.breaker import breaker_for
from weather_provider.limiter import budget_for

pytestmark = pytest.mark.django_db


def bad_key() -> ProviderError:
    return ProviderError("The API key was refused; check OPENWEATHER_API_KEY.", permanent=True)


def test_transient_errors_are_retried_until_the_read_works(counting, follow):
    (city,) = follow(1)
    counting.failures = [ProviderError("Timed out."), ProviderError("HTTP 502.")]

    summary = refresh.refresh_followed_cities()

    city.refresh_from_db()
    assert (summary.calls, summary.stored, summary.failures) == (3, 1, 0)
    assert not city.stale


def test_a_retry_waits_as_long_as_the_provider_retry_after_says(counting, follow):
    follow(1)
    counting.failures = [ProviderError("Too many requests.", retry_after=0.4)]

    refresh.refresh_followed_cities()

    first, second = counting.calls
    assert second.at - first.at >= 0.4


def test_backoff_grows_between_attempts(counting, follow, settings):
    settings.WEATHER_RETRY_INITIAL_WAIT = 0.1
    follow(1)
    counting.failures = [ProviderError("Timed out."), ProviderError("Timed out.")]

    refresh.refresh_followed_cities()

    first, second, third = (call.at for call in counting.calls)
    assert second - first >= 0.1
    assert third - second >= 0.2


def test_a_city_whose_retries_run_out_is_marked_stale(counting, follow, settings):
    settings.WEATHER_RETRY_ATTEMPTS = 2
    (city,) = follow(1)
    ObservationFactory(city=city)
    city.latest = city.observations.get()
    city.save()
    counting.failures = [ProviderError("HTTP 503.")] * 2

    summary = refresh.refresh_followed_cities()

    city.refresh_from_db()
    assert (summary.calls, summary.failures) == (2, 1)
    assert city.stale
    assert city.last_error == "HTTP 503."
    assert latest_reading_as_dict(city, units="metric")["stale"] is True


def test_a_long_retry_after_is_not_waited_for_inline(counting, follow, settings):
    settings.WEATHER_RETRY_MAX_WAIT = 1.0
    follow(1)
    counting.failures = [ProviderError("Daily limit reached.", retry_after=3600)]

    summary = refresh.refresh_followed_cities()

    # Not retried: the provider's wait becomes a pause of the shared budget for every worker.
    assert (summary.calls, summary.failures) == (1, 1)
    assert budget_for(counting).paused_for() > 3000


def test_a_permanent_error_is_reported_once_loudly_and_not_retried(counting, follow, caplog):
    cities = follow(2)
    counting.failures = [bad_key() for _ in range(10)]

    with caplog.at_level(logging.WARNING):
        first = refresh.refresh_followed_cities()
        second = refresh.refresh_followed_cities()

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "failed permanently" in errors[0].getMessage()
    assert (first.calls, first.failures) == (1, 2)
    # The circuit opened on the permanent error: the next cycle calls nobody.
    assert (second.calls, second.failures) == (0, 2)
    for city in cities:
        city.refresh_from_db()
        assert city.stale


def test_the_circuit_opens_after_repeated_failures_and_closes_after_the_cooldown(
    use_provider, follow, settings
):
    settings.WEATHER_BREAKER_THRESHOLD = 3
    settings.WEATHER_BREAKER_COOLDOWN = 0.5
    settings.WEATHER_RETRY_ATTEMPTS = 1
    provider = use_provider("counting", batch_size=1)
    cities = follow(5)
    provider.failures = [ProviderError("HTTP 500.") for _ in range(3)]

    broken = refresh.refresh_followed_cities()

    assert (broken.calls, broken.failures) == (3, 5)
    assert any("calls are paused" in error for error in broken.errors)
    assert breaker_for(provider.name).open_for() > 0
    for city in cities:
        city.refresh_from_db()
        assert city.stale

    time.sleep(0.6)
    healed = refresh.refresh_followed_cities()

    assert (healed.calls, healed.stored) == (5, 5)
    for city in cities:
        city.refresh_from_db()
        assert not city.stale


@pytest.mark.services
def test_the_circuit_state_lives_in_redis_for_every_worker(counting, settings):
    settings.WEATHER_BREAKER_THRESHOLD = 2
    breaker = breaker_for(counting.name)
    breaker.record_failure()
    breaker.record_failure()

    another_worker = redis.Redis.from_url(django_settings.REDIS_URL)
    assert another_worker.pttl("skywatch:breaker:counting:open") > 0
    assert breaker_for(counting.name).open_for() > 0


def test_a_stale_city_is_published_once_not_every_cycle(
    counting, follow, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.WEATHER_RETRY_ATTEMPTS = 1
    settings.WEATHER_BREAKER_THRESHOLD = 100
    (city,) = follow(1)
    counting.failures = [ProviderError("HTTP 500.")] * 2
    published: list = []
    monkeypatch.setattr(
        subscription_events, "readings_publish", lambda ids: published.append(list(ids))
    )

    with django_capture_on_commit_callbacks(execute=True):
        refresh.refresh_followed_cities()
        refresh.refresh_followed_cities()

    assert published == [[city.pk]]


def test_the_api_refresh_is_throttled_when_the_budget_is_spent(use_provider, follow):
    use_provider("counting", budget="1/minute")
    (city,) = follow(1)

    on_demand.city_refresh_now(city=city)
    with pytest.raises(Throttled) as throttled:
        on_demand.city_refresh_now(city=city)

    assert 55 <= throttled.value.retry_after <= 62


def test_the_api_refresh_reads_and_stores_one_city(counting, follow):
    (city,) = follow(1)

    observation = on_demand.city_refresh_now(city=city)

    city.refresh_from_db()
    assert city.latest == observation
    assert counting.counter.cities == [city.pk]


def test_the_api_refresh_answers_unavailable_when_the_provider_fails(counting, follow):
    (city,) = follow(1)
    counting.failures = [ProviderError("HTTP 500.")]

    with pytest.raises(ProviderUnavailable):
        on_demand.city_refresh_now(city=city)

    city.refresh_from_db()
    assert city.stale
    assert len(counting.calls) == 1


def test_the_api_refresh_is_throttled_when_the_provider_says_429(counting, follow):
    (city,) = follow(1)
    counting.failures = [ProviderError("Too many requests.", retry_after=30)]

    with pytest.raises(Throttled) as throttled:
        on_demand.city_refresh_now(city=city)

    assert throttled.value.retry_after == 30


def test_the_api_refresh_calls_nobody_while_the_circuit_is_open(counting, follow):
    (city,) = follow(1)
    breaker_for(counting.name).record_failure(permanent=True)

    with pytest.raises(ProviderUnavailable, match="calls are paused"):
        on_demand.city_refresh_now(city=city)

    assert counting.calls == []
