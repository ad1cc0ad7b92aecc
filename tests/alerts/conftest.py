"""The shared world with a city each, and helpers to store readings and forecasts for alerts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from skywatch.api import throttles
from subscriptions.models import Forecast
from tests.api.conftest import api, bearer_client, error_of  # noqa: F401
from tests.factories import CityFactory, ObservationFactory, SubscriptionFactory


@pytest.fixture(autouse=True)
def _clean_cache(settings):
    # Delivery in this process's background thread (no Celery worker runs in these tests).
    settings.ALERT_DELIVERY = "thread"
    cache.clear()
    throttles.reset()
    yield
    cache.clear()
    throttles.reset()


@pytest.fixture
def alice_api(alice):
    return bearer_client(alice)


@pytest.fixture
def bob_api(bob):
    return bearer_client(bob)


@pytest.fixture
def paris(db):
    return CityFactory(name="Paris", country="FR", timezone="Europe/Paris")


@pytest.fixture
def alice_paris(alice, paris):
    return SubscriptionFactory(user=alice, city=paris)


def reading(city, **values):
    """Store a reading as the city's latest (the pipeline's observations_store does the same)."""
    observation = ObservationFactory(city=city, observed_at=timezone.now(), **values)
    city.latest = observation
    city.save(update_fields=["latest"])
    return observation


def forecast(city, values: list[dict], *, start: dt.datetime | None = None) -> Forecast:
    """Store hourly steps from the current hour with the given metric values."""
    start = (start or timezone.now()).replace(minute=0, second=0, microsecond=0)
    hourly = [
        {"time": (start + dt.timedelta(hours=i)).isoformat().replace("+00:00", "Z"), **row}
        for i, row in enumerate(values)
    ]
    row, _ = Forecast.objects.update_or_create(
        city=city,
        defaults={
            "provider": "random",
            "issued_at": start,
            "fetched_at": timezone.now(),
            "timezone": city.timezone,
            "hourly": hourly,
            "daily": [],
        },
    )
    return row


@pytest.fixture
def tunable(settings, monkeypatch):
    """The tunable provider on a clean slate, forecasts on."""
    from tests.support.state import refresh_state_reset
    from weather_provider.registry import PROVIDERS, get_provider, reset_providers

    monkeypatch.setitem(PROVIDERS, "tunable", "tests.alerts.fakes.TunableProvider")
    settings.WEATHER_PROVIDER = "tunable"
    settings.PROVIDER_RATE_LIMIT = ""
    settings.WEATHER_RETRY_INITIAL_WAIT = 0.01
    settings.WEATHER_RETRY_MAX_WAIT = 0.5
    settings.FORECAST_REFRESH_SECONDS = 3600
    settings.ALERT_RETRY_SECONDS = 0.01
    reset_providers()
    provider = get_provider()
    refresh_state_reset(provider)
    yield provider
    refresh_state_reset(provider)


def alert_on(subscription, **fields):
    """An alert written as the service would store it (metric units)."""
    from notifications.models import Alert

    values = {
        "metric": "temperature",
        "operator": "below",
        "threshold": 0.0,
        "source": "now",
        "channels": ["web", "email"],
    }
    values.update(fields)
    values.setdefault("typed_threshold", values["threshold"])
    return Alert.objects.create(user=subscription.user, subscription=subscription, **values)
