"""The real APIs, only when asked: LIVE_PROVIDER_TESTS=1 (and a key for OpenWeather)."""

from __future__ import annotations

import os

import pytest

from weather_provider.base import Location
from weather_provider.open_meteo import OpenMeteoProvider
from weather_provider.openweather import OpenWeatherProvider

pytestmark = pytest.mark.skipif(
    os.environ.get("LIVE_PROVIDER_TESTS") != "1",
    reason="talks to the real providers; set LIVE_PROVIDER_TESTS=1",
)


def assert_complete(reading, *, chance_of_rain: bool) -> None:
    assert -70 < reading.temperature < 60
    assert 0 <= reading.humidity <= 100
    assert 0 <= reading.clouds <= 100
    assert 0 <= reading.wind_direction < 360
    assert 850 < reading.pressure < 1100
    assert reading.condition
    if chance_of_rain:
        assert reading.precipitation_probability is not None


def test_open_meteo_offers_paris_fr_and_paris_tx_and_reads_both():
    provider = OpenMeteoProvider()
    places = provider.search("Paris")
    assert places[0].country == "FR"
    texas = next(p for p in places if p.admin1 == "Texas")
    assert provider.lookup(texas.key) == texas
    assert provider.search("Xyzzyqwv") == []
    readings = provider.current(
        [Location(p.key, p.latitude, p.longitude) for p in (places[0], texas)]
    )
    assert list(readings) == [places[0].key, texas.key]
    for reading in readings.values():
        assert_complete(reading, chance_of_rain=True)
    provider.close()


@pytest.mark.skipif(
    not (os.environ.get("OPENWEATHER_API_KEY") or os.environ.get("OPENWEATHER_API_KEY_FILE")),
    reason="needs OPENWEATHER_API_KEY or OPENWEATHER_API_KEY_FILE",
)
def test_openweather_offers_paris_fr_and_paris_tx_and_reads_one():
    provider = OpenWeatherProvider()
    places = provider.search("Paris")
    assert {"FR", "US"} <= {p.country for p in places}
    assert provider.lookup(places[0].key).country == places[0].country
    assert provider.search("Xyzzyqwv") == []
    reading = provider.current([Location(1, places[0].latitude, places[0].longitude)])[1]
    assert_complete(reading, chance_of_rain=False)
    provider.close()


def test_open_meteo_forecasts_two_cities_alone_and_with_their_readings():
    provider = OpenMeteoProvider()
    locations = [Location("fr", 48.8534, 2.3488), Location("tx", 33.6609, -95.5555)]
    forecasts = provider.forecast(locations)
    readings, both = provider.current_and_forecast(locations)
    assert list(forecasts) == list(both) == list(readings) == ["fr", "tx"]
    for forecast in (*forecasts.values(), *both.values()):
        assert len(forecast.hourly) >= 49
        assert len(forecast.daily) >= 7
        assert forecast.timezone in ("Europe/Paris", "America/Chicago")
        assert all(day.temperature_min <= day.temperature_max for day in forecast.daily)
    for reading in readings.values():
        assert_complete(reading, chance_of_rain=True)
    provider.close()


@pytest.mark.skipif(
    not (os.environ.get("OPENWEATHER_API_KEY") or os.environ.get("OPENWEATHER_API_KEY_FILE")),
    reason="needs OPENWEATHER_API_KEY or OPENWEATHER_API_KEY_FILE",
)
def test_openweather_forecasts_one_city_in_three_hour_steps():
    provider = OpenWeatherProvider()
    forecast = provider.forecast([Location(1, 48.8589, 2.32)])[1]
    assert forecast.step_hours == 3
    assert len(forecast.hourly) >= 16
    assert len(forecast.daily) >= 4
    assert forecast.daily[0].sunrise is not None
    provider.close()
