"""The offline provider: real cities from GeoNames and plausible readings that drift."""

from __future__ import annotations

import itertools

import pytest

from weather_provider.base import CityNotFound, Location
from weather_provider.conditions import ICONS
from weather_provider.random import RandomProvider

LONDON = Location(id="london", latitude=51.50853, longitude=-0.12574)
SAO_PAULO = Location(id=2, latitude=-23.5475, longitude=-46.63611)


@pytest.fixture
def provider():
    return RandomProvider(seed=7)


def test_london_exists_and_the_capital_comes_first(provider):
    places = provider.search("London")
    assert places[0].country == "GB"
    assert any(place.country == "CA" for place in places)


def test_sao_paulo_is_found_with_or_without_accents(provider):
    assert provider.search("São Paulo")[0].country == "BR"
    assert provider.search("sao paulo")[0].key == provider.search("São Paulo")[0].key


def test_a_made_up_name_finds_nothing(provider):
    assert provider.search("Xyzzyqwv") == []
    assert provider.search("   ") == []


def test_paris_offers_france_and_texas(provider):
    places = provider.search("Paris")
    assert places[0].country == "FR"
    assert ("US", "Texas") in {(p.country, p.admin1) for p in places}


def test_a_country_narrows_the_search(provider):
    assert {p.country for p in provider.search("Paris, US")} == {"US"}


def test_the_limit_is_respected(provider):
    assert len(provider.search("San", limit=3)) == 3


def test_lookup_finds_what_search_offered(provider):
    place = provider.search("London")[0]
    assert provider.lookup(place.key) == place


@pytest.mark.parametrize("key", ["gn:0", "gn:nope", "om:2643743", ""])
def test_lookup_of_an_unknown_key_is_city_not_found(provider, key):
    with pytest.raises(CityNotFound):
        provider.lookup(key)


def test_readings_are_plausible(provider):
    readings = provider.current([LONDON, SAO_PAULO])
    assert set(readings) == {"london", 2}
    for reading in readings.values():
        assert -40 < reading.temperature < 50
        assert -60 < reading.feels_like < 60
        assert 0 <= reading.humidity <= 100
        assert 0 <= reading.clouds <= 100
        assert 0 <= reading.wind_speed <= 25
        assert 0 <= reading.wind_direction < 360
        assert 0 <= reading.precipitation_probability <= 100
        assert 950 < reading.pressure < 1050
        assert reading.icon in ICONS
        assert reading.condition
        assert reading.observed_at.tzinfo is not None


def test_readings_drift_a_little_between_refreshes(provider):
    series = [provider.current([LONDON])["london"] for _ in range(10)]
    assert len({(r.humidity, r.clouds, r.pressure, r.wind_speed) for r in series}) > 1
    for before, after in itertools.pairwise(series):
        assert abs(after.pressure - before.pressure) < 5
        assert abs(after.humidity - before.humidity) < 15


def test_the_same_seed_gives_the_same_weather():
    first = RandomProvider(seed=3).current([LONDON])["london"]
    second = RandomProvider(seed=3).current([LONDON])["london"]
    assert (first.humidity, first.clouds, first.pressure) == (
        second.humidity,
        second.clouds,
        second.pressure,
    )
