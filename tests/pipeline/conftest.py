"""A counting provider registered by name, fast retry settings, and a clean shared state."""

from __future__ import annotations

import pytest

from subscriptions import planning
from tests.factories import CityFactory, SubscriptionFactory, UserFactory
from tests.support.state import refresh_state_reset
from weather_provider.registry import PROVIDERS, get_provider, reset_providers

FAKES = {
    "counting": "tests.pipeline.fakes.CountingProvider",
    "combined": "tests.pipeline.fakes.CombinedProvider",
    "loopback": "tests.pipeline.fakes.LoopbackProvider",
}


@pytest.fixture
def use_provider(settings, monkeypatch):
    """Switch to a fake provider by name (with an optional budget) on a clean slate."""
    for name, dotted in FAKES.items():
        monkeypatch.setitem(PROVIDERS, name, dotted)
    settings.WEATHER_RETRY_INITIAL_WAIT = 0.01
    settings.WEATHER_RETRY_MAX_WAIT = 2.0
    settings.WEATHER_RETRY_JITTER = 0.01
    settings.WEATHER_REFRESH_SECONDS = 300
    # These tests count reading calls; the forecast tests turn forecasts on themselves.
    settings.FORECAST_REFRESH_SECONDS = 0
    used = []

    def switch(name: str = "counting", *, budget: str = "", batch_size: int | None = None):
        settings.WEATHER_PROVIDER = name
        settings.PROVIDER_RATE_LIMIT = budget
        reset_providers()
        provider = get_provider()
        if batch_size is not None:
            provider.batch_size = batch_size
        refresh_state_reset(provider)
        used.append(provider)
        return provider

    yield switch
    for provider in used:
        refresh_state_reset(provider)


@pytest.fixture
def counting(use_provider):
    return use_provider("counting")


@pytest.fixture
def follow(db):
    """follow(n) → n cities, each followed by one new user (or by `user`)."""

    def make(count: int, *, user=None, paused: bool = False) -> list:
        cities = CityFactory.create_batch(count)
        for city in cities:
            SubscriptionFactory(user=user or UserFactory(), city=city, paused=paused)
        return cities

    return make


@pytest.fixture
def refresh_every(db, settings):
    """Set the configured interval where each mode reads it: the setting and the beat schedule."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    def configure(seconds: int) -> None:
        settings.WEATHER_REFRESH_SECONDS = seconds
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.filter(name=planning.PERIODIC_TASK_NAME).update(interval=interval)

    return configure
