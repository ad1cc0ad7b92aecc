"""OpenWeather's free 5-day / 3-hour forecast against recorded answers: steps, folded local
days, what it does not give, and the same failures as current readings."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from tests.weather_provider.conftest import recording, replay
from weather_provider.base import (
    CURRENT_AND_FORECAST,
    FORECAST,
    ForecastDay,
    ForecastHour,
    Location,
    ProviderError,
)
from weather_provider.openweather import API_URL, OpenWeatherProvider

FORECAST_URL = f"{API_URL}/data/2.5/forecast"
PARIS_FR = Location(id=1, latitude=48.8589, longitude=2.32)
PARIS_TX = Location(id="tx", latitude=33.6618, longitude=-95.5555)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


def test_each_three_hour_step_maps_every_field(mocked, openweather):
    replay(mocked, "openweather/forecast_paris")

    forecast = openweather.forecast([PARIS_FR])[1]

    assert forecast.hourly[0] == ForecastHour(
        time=at(23, 12),
        temperature=10.5,
        feels_like=8.4,
        precipitation_probability=10,
        precipitation=0.0,
        wind_speed=3.1,
        wind_gusts=6.2,
        clouds=75,
        uv_index=None,
        condition="Broken clouds",
        icon="cloudy",
    )
    # Rain and snow are the step's 3 hours, in mm; "pop" is a fraction.
    assert [
        (h.precipitation, h.precipitation_probability, h.icon) for h in forecast.hourly[4:8]
    ] == [
        (0.3, 65, "rain"),
        (0.1, 80, "rain"),
        (1.6, 93, "rain"),
        (0.4, 40, "snow"),
    ]
    assert forecast.hourly[6].condition == "Moderate rain"


def test_steps_are_three_hours_apart_up_to_three_days_ahead(mocked, openweather):
    replay(mocked, "openweather/forecast_paris")

    forecast = openweather.forecast([PARIS_FR])[1]

    assert forecast.step_hours == 3
    assert len(forecast.hourly) == 24
    assert forecast.hourly[-1].time == at(26, 9)
    assert (forecast.timezone, forecast.utc_offset_seconds) == ("", 3600)
    assert forecast.issued_at == dt.datetime(2026, 11, 23, 10, 15, 7, tzinfo=dt.UTC)
    assert {hour.uv_index for hour in forecast.hourly} == {None}


def test_days_are_folded_from_the_steps_in_the_citys_local_dates(mocked, openweather):
    replay(mocked, "openweather/forecast_paris")

    days = openweather.forecast([PARIS_FR])[1].daily

    # Today from its remaining steps, four whole days; the morning the forecast ends in is left out.
    assert [day.date for day in days] == [dt.date(2026, 11, 23 + n) for n in range(5)]
    assert days[1] == ForecastDay(
        date=dt.date(2026, 11, 24),
        temperature_max=10.4,
        temperature_min=2.9,
        precipitation_probability_max=93,
        precipitation_sum=2.4,
        wind_speed_max=4.3,
        uv_index_max=None,
        sunrise=None,
        sunset=None,
        condition="Light snow",
        icon="snow",
    )


def test_sunrise_and_sunset_are_given_for_today_only(mocked, openweather):
    replay(mocked, "openweather/forecast_paris")

    days = openweather.forecast([PARIS_FR])[1].daily

    assert (days[0].sunrise, days[0].sunset) == (at(23, 7, 24), at(23, 16, 11))
    assert {(day.sunrise, day.sunset) for day in days[1:]} == {(None, None)}


def test_a_step_without_a_gust_has_none(mocked, openweather):
    replay(mocked, "openweather/forecast_paris_tx")

    forecast = openweather.forecast([PARIS_TX])["tx"]

    assert forecast.hourly[0].wind_gusts is None
    assert forecast.hourly[1].wind_gusts == 6.7
    assert forecast.utc_offset_seconds == -21600
    # 12:00 UTC is 06:00 in Texas: today is still the 23rd there.
    assert forecast.daily[0].date == dt.date(2026, 11, 23)
    assert forecast.daily[0].sunrise == at(23, 13, 1)


def test_several_locations_are_one_forecast_call_each_in_order(mocked, openweather):
    replay(mocked, "openweather/forecast_paris")
    replay(mocked, "openweather/forecast_paris_tx")

    forecasts = openweather.forecast([PARIS_FR, PARIS_TX])

    assert list(forecasts) == [1, "tx"]
    assert len(mocked.calls) == 2
    assert openweather.call_weight([PARIS_FR, PARIS_TX], kind=FORECAST) == 2


def test_both_at_once_are_a_reading_call_and_a_forecast_call(mocked, openweather):
    replay(mocked, "openweather/weather_paris")
    replay(mocked, "openweather/forecast_paris")

    readings, forecasts = openweather.current_and_forecast([PARIS_FR])

    assert readings[1].temperature == 7.4
    assert forecasts[1].hourly[0].temperature == 10.5
    assert len(mocked.calls) == 2
    assert openweather.call_weight([PARIS_FR, PARIS_TX], kind=CURRENT_AND_FORECAST) == 4


def test_429_on_a_forecast_is_transient_and_carries_retry_after(mocked, openweather):
    replay(mocked, "openweather/forecast_429")

    with pytest.raises(ProviderError) as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is False
    assert caught.value.retry_after == 17.0


def test_a_server_error_on_a_forecast_is_transient(mocked, openweather):
    replay(mocked, "openweather/forecast_500")

    with pytest.raises(ProviderError, match="HTTP 500") as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_a_refused_key_on_a_forecast_is_permanent(mocked, openweather):
    replay(mocked, "openweather/error_401", url=FORECAST_URL)

    with pytest.raises(ProviderError, match="key was refused") as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is True


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
    ],
)
def test_a_forecast_that_times_out_is_transient(mocked, openweather, failure):
    mocked.get(FORECAST_URL, body=failure)

    with pytest.raises(ProviderError, match="did not answer in time") as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_a_forecast_that_is_not_json_is_transient(mocked, openweather):
    replay(mocked, "openweather/forecast_malformed")

    with pytest.raises(ProviderError, match="could not be read") as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is False


def _paris(**changes) -> dict:
    return {**recording("openweather/forecast_paris")["response"]["json"], **changes}


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"cod": "200"},
        _paris(list=[]),
        _paris(city=None),
        _paris(list=[{"dt": 1795435200}]),
        _paris(list=[{"dt": "noon", "main": {"temp": 1}}]),
    ],
)
def test_a_forecast_in_an_unexpected_shape_is_transient(mocked, openweather, body):
    mocked.get(FORECAST_URL, json=body)

    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        openweather.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_a_missing_key_fails_a_forecast_before_any_call(mocked, settings):
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = ""
    provider = OpenWeatherProvider()

    with pytest.raises(ProviderError, match="OPENWEATHER_API_KEY") as caught:
        provider.forecast([PARIS_FR])

    assert caught.value.permanent is True
    assert len(mocked.calls) == 0
    provider.close()
