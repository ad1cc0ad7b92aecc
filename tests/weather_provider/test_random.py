"""The offline provider: real cities from GeoNames and plausible readings that drift."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from weather_provider.base import CityNotFound, Location
from weather_provider.conditions import ICONS
from weather_provider.forecasts import local_date
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


# --- Forecasts ---------------------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 23, 10, 15, 30, tzinfo=dt.UTC)
LONGYEARBYEN = Location(id="svalbard", latitude=78.2232, longitude=15.6267)


def at_now() -> dt.datetime:
    return NOW


@pytest.fixture
def clocked():
    return RandomProvider(seed=7, clock=at_now)


def test_a_forecast_starts_at_the_current_hour_near_the_current_reading(clocked):
    reading = clocked.current([LONDON, SAO_PAULO])
    forecasts = clocked.forecast([LONDON, SAO_PAULO])

    for key in ("london", 2):
        first = forecasts[key].hourly[0]
        assert first.time == NOW.replace(minute=0, second=0)
        assert abs(first.temperature - reading[key].temperature) < 2
        assert abs(first.clouds - reading[key].clouds) <= 1
        assert abs(first.wind_speed - reading[key].wind_speed) <= 0.1


def test_a_forecast_covers_72_hours_and_8_local_days(clocked):
    forecast = clocked.forecast([SAO_PAULO])[2]

    times = [hour.time for hour in forecast.hourly]
    assert len(times) == 72
    assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(times))
    # São Paulo is three hours behind UTC by the sun.
    assert forecast.utc_offset_seconds == -3 * 3600
    assert [day.date for day in forecast.daily] == [dt.date(2026, 11, 23 + n) for n in range(8)]
    assert (forecast.issued_at, forecast.step_hours, forecast.timezone) == (NOW, 1, "")


def test_forecast_values_are_plausible(clocked):
    forecast = clocked.forecast([LONDON])["london"]

    for hour in forecast.hourly:
        assert -40 < hour.temperature < 50
        assert 0 <= hour.precipitation_probability <= 100
        assert 0 <= hour.precipitation < 30
        assert 0 <= hour.wind_speed <= hour.wind_gusts
        assert 0 <= hour.clouds <= 100
        assert 0 <= hour.uv_index <= 13
        assert hour.icon in ICONS
    for day in forecast.daily:
        assert day.temperature_min < day.temperature_max
        assert day.sunrise < day.sunset
        assert local_date(day.sunrise, 0) == day.date
        assert day.icon in ICONS


def test_days_have_a_daily_cycle_warm_afternoons_and_no_sun_at_night(clocked):
    forecast = clocked.forecast([SAO_PAULO])[2]

    day = forecast.daily[1]
    hours = [
        h for h in forecast.hourly if local_date(h.time, forecast.utc_offset_seconds) == day.date
    ]
    afternoon = [h.temperature for h in hours if 13 <= (h.time.hour - 3) % 24 <= 16]
    night = [h.temperature for h in hours if 1 <= (h.time.hour - 3) % 24 <= 5]
    assert min(afternoon) > max(night)
    assert {h.uv_index for h in hours if h.time < day.sunrise or h.time > day.sunset} == {0.0}
    assert day.uv_index_max > 3


def test_the_polar_night_has_no_sunrise(clocked):
    forecast = clocked.forecast([LONGYEARBYEN])["svalbard"]

    assert {(day.sunrise, day.sunset) for day in forecast.daily} == {(None, None)}
    assert {hour.uv_index for hour in forecast.hourly} == {0.0}


def test_forecasts_drift_a_little_between_refreshes(clocked):
    first = clocked.forecast([LONDON])["london"]
    second = clocked.forecast([LONDON])["london"]

    assert first.hourly != second.hourly
    assert abs(first.hourly[0].temperature - second.hourly[0].temperature) < 1
    assert abs(first.daily[0].temperature_max - second.daily[0].temperature_max) < 5


def test_the_same_seed_and_clock_give_the_same_forecast():
    first = RandomProvider(seed=3, clock=at_now).forecast([LONDON])
    second = RandomProvider(seed=3, clock=at_now).forecast([LONDON])

    assert first == second


def test_both_at_once_agree_with_each_other(clocked):
    readings, forecasts = clocked.current_and_forecast([LONDON])

    assert abs(forecasts["london"].hourly[0].temperature - readings["london"].temperature) < 2
