"""Synthetic readings for history tests: known values at known times, inserted in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pytest

from subscriptions.models import City, Observation
from tests.factories import CityFactory, SubscriptionFactory

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    """An aware UTC moment from "YYYY-MM-DD HH:MM[:SS]"."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def put_readings(
    city: City,
    moments: Iterable[dt.datetime],
    *,
    temperature: Callable[[int, dt.datetime], float] = lambda i, moment: 10.0,
    **fixed,
) -> list[Observation]:
    """One reading per moment; `temperature(i, moment)` gives its temperature in °C."""
    values = {
        "feels_like": 8.0,
        "humidity": 50,
        "clouds": 20,
        "wind_speed": 2.0,
        "wind_direction": 180,
        "precipitation_probability": 10,
        "pressure": 1010,
        "condition": "Clear",
        "icon": "clear",
        "provider": "random",
        **fixed,
    }
    rows = [
        Observation(city=city, observed_at=moment, temperature=temperature(i, moment), **values)
        for i, moment in enumerate(moments)
    ]
    return Observation.objects.bulk_create(rows)


def every(start: dt.datetime, step: dt.timedelta, count: int) -> list[dt.datetime]:
    return [start + step * i for i in range(count)]


@pytest.fixture
def oslo(alice):
    """A city alice follows."""
    city = CityFactory(name="Oslo", country="NO")
    SubscriptionFactory(user=alice, city=city)
    return city


@pytest.fixture
def lima(charlie):
    """A city charlie (the outsider) follows and alice does not."""
    city = CityFactory(name="Lima", country="PE")
    SubscriptionFactory(user=charlie, city=city)
    return city
