"""Open-Meteo forecasts against recorded answers: hours, local days, both at once, the weight of
every kind of call, and the same failures as current readings."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from fractions import Fraction

import pytest
import requests

from tests.weather_provider.conftest import recording, replay
from weather_provider.base import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
    ForecastDay,
    ForecastHour,
    Location,
    ProviderError,
)
from weather_provider.open_meteo import FORECAST_URL
from weather_provider.open_meteo_answers import query_weight, request_variables

PARIS_FR = Location(id=1, latitude=48.85341, longitude=2.3488)
PARIS_TX = Location(id="tx", latitude=33.66094, longitude=-95.55551)
PARIS_TN = Location(id=3, latitude=36.302, longitude=-88.32671)
ISSUED = dt.datetime(2026, 11, 23, 10, 15, 7, tzinfo=dt.UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


def test_a_forecast_maps_every_field_of_an_hour(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_one")

    forecast = open_meteo.forecast([PARIS_FR])[1]

    assert len(mocked.calls) == 1
    assert forecast.hourly[0] == ForecastHour(
        time=at(23, 10),
        temperature=8.0,
        feels_like=5.7,
        precipitation_probability=25,
        precipitation=0.0,
        wind_speed=3.0,
        wind_gusts=6.0,
        clouds=60,
        uv_index=1.2,
        condition="Overcast",
        icon="cloudy",
    )
    assert forecast.hourly[20] == ForecastHour(
        time=at(24, 6),
        temperature=3.4,
        feels_like=1.1,
        precipitation_probability=70,
        precipitation=0.4,
        wind_speed=5.1,
        wind_gusts=9.6,
        clouds=100,
        uv_index=0.0,
        condition="Light rain",
        icon="rain",
    )


def test_hours_start_at_the_current_hour_and_cover_three_days(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_one")

    forecast = open_meteo.forecast([PARIS_FR])[1]

    times = [hour.time for hour in forecast.hourly]
    assert times[0] == at(23, 10)
    assert len(times) == 72
    assert all(
        later - earlier == dt.timedelta(hours=1) for earlier, later in itertools.pairwise(times)
    )
    assert forecast.step_hours == 1
    assert (forecast.issued_at, forecast.timezone, forecast.utc_offset_seconds) == (
        ISSUED,
        "Europe/Paris",
        3600,
    )


def test_a_forecast_maps_every_field_of_a_local_day(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_one")

    days = open_meteo.forecast([PARIS_FR])[1].daily

    assert [day.date for day in days] == [dt.date(2026, 11, 23 + n) for n in range(8)]
    assert days[1] == ForecastDay(
        date=dt.date(2026, 11, 24),
        temperature_max=9.5,
        temperature_min=1.7,
        precipitation_probability_max=70,
        precipitation_sum=4.8,
        wind_speed_max=5.3,
        uv_index_max=1.1,
        sunrise=at(24, 7, 17),
        sunset=at(24, 16, 1),
        condition="Light rain",
        icon="rain",
    )
    assert days[0].sunrise.tzinfo is dt.UTC


def test_what_open_meteo_leaves_null_stays_none(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_one")

    forecast = open_meteo.forecast([PARIS_FR])[1]

    assert forecast.daily[-1].uv_index_max is None
    assert [hour.wind_gusts for hour in forecast.hourly[-4:]] == [9.0, None, None, None]


def test_a_variable_left_out_of_the_answer_reads_none(mocked, open_meteo):
    body = recording("open_meteo/hourly_daily_one")["response"]["json"]
    del body["hourly"]["uv_index"]
    del body["daily"]["sunrise"]
    mocked.get(FORECAST_URL, json=body)

    forecast = open_meteo.forecast([PARIS_FR])[1]

    assert {hour.uv_index for hour in forecast.hourly} == {None}
    assert {day.sunrise for day in forecast.daily} == {None}
    assert forecast.daily[0].sunset == at(23, 16, 2)


def test_days_west_of_greenwich_are_the_citys_own_dates(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_three")

    texas = open_meteo.forecast([PARIS_FR, PARIS_TX, PARIS_TN])["tx"]

    # Its days start at 06:00 UTC; at 10:15 UTC it is still the 23rd in Texas.
    assert (texas.timezone, texas.utc_offset_seconds) == ("America/Chicago", -21600)
    assert texas.daily[0].date == dt.date(2026, 11, 23)
    assert texas.daily[0].sunrise == at(23, 13, 5)
    assert texas.daily[0].sunset == at(23, 23, 21)


def test_a_day_keeps_its_date_across_a_change_of_daylight_saving(mocked, open_meteo):
    body = recording("open_meteo/hourly_daily_one")["response"]["json"]
    # Summer time ended: the offset is now +1 h but the last day's midnight was at +2 h.
    body["daily"]["time"][-1] -= 3600
    mocked.get(FORECAST_URL, json=body)

    days = open_meteo.forecast([PARIS_FR])[1].daily

    assert days[-1].date == dt.date(2026, 11, 30)


def test_several_forecasts_come_back_in_one_call_keyed_by_location_id(mocked, open_meteo):
    replay(mocked, "open_meteo/hourly_daily_three")

    forecasts = open_meteo.forecast([PARIS_FR, PARIS_TX, PARIS_TN])

    assert len(mocked.calls) == 1
    assert list(forecasts) == [1, "tx", 3]
    assert forecasts[1].hourly[0].temperature == 8.0
    assert forecasts["tx"].hourly[0].icon == "clear"
    assert forecasts[3].daily[1].icon == "snow"


def test_the_forecast_order_follows_location_id_when_given(mocked, open_meteo):
    body = recording("open_meteo/hourly_daily_three")["response"]["json"]
    body[0]["location_id"] = 0
    mocked.get(FORECAST_URL, json=[body[2], body[0], body[1]])

    forecasts = open_meteo.forecast([PARIS_FR, PARIS_TX, PARIS_TN])

    assert forecasts[1].timezone == "Europe/Paris"
    assert forecasts["tx"].daily[0].sunrise == at(23, 13, 5)
    assert forecasts[3].daily[1].icon == "snow"


def test_readings_and_forecasts_come_in_one_request(mocked, open_meteo):
    replay(mocked, "open_meteo/current_hourly_daily_two")

    readings, forecasts = open_meteo.current_and_forecast([PARIS_FR, PARIS_TX])

    assert len(mocked.calls) == 1
    assert list(readings) == list(forecasts) == [1, "tx"]
    assert (readings[1].temperature, readings[1].icon, readings[1].wind_speed) == (7.4, "rain", 4.2)
    # The chance of rain now is the current hour's, from the forecast in the same answer.
    assert readings[1].precipitation_probability == forecasts[1].hourly[0].precipitation_probability
    assert readings["tx"].temperature == 18.9
    assert forecasts["tx"].daily[0].date == dt.date(2026, 11, 23)
    assert len(forecasts[1].hourly) == 72


def test_no_locations_means_no_forecast_call(mocked, open_meteo):
    assert open_meteo.forecast([]) == {}
    assert open_meteo.current_and_forecast([]) == ({}, {})


def test_many_locations_are_split_like_readings(mocked, open_meteo):
    locations = [Location(id=i, latitude=10 + i / 1000, longitude=20) for i in range(150)]
    body = recording("open_meteo/hourly_daily_one")["response"]["json"]

    def answer(request):
        return 200, {}, json.dumps([body] * (request.params["latitude"].count(",") + 1))

    mocked.add_callback("GET", FORECAST_URL, callback=answer)

    forecasts = open_meteo.forecast(locations)

    assert len(forecasts) == 150
    assert len(mocked.calls) == 2


# --- The weight Open-Meteo counts -------------------------------------------------------------


def test_the_weight_of_one_request_is_open_meteos_own_formula():
    # Open-Meteo's examples: 15 variables over 14 days are 1.5 calls, over 28 days 3.0.
    assert query_weight(locations=1, variables=15, days=14) == Fraction(3, 2)
    assert query_weight(locations=1, variables=15, days=28) == 3
    assert query_weight(locations=1, variables=9, days=1) == 1
    assert query_weight(locations=1, variables=5, days=28) == 1
    assert query_weight(locations=3, variables=18, days=8) == Fraction(27, 5)


def test_requests_name_9_18_and_26_variables(open_meteo):
    variables = {
        kind: request_variables(open_meteo._params(kind, [PARIS_FR]))
        for kind in (CURRENT, FORECAST, CURRENT_AND_FORECAST)
    }

    assert variables == {CURRENT: 9, FORECAST: 18, CURRENT_AND_FORECAST: 26}


@pytest.mark.parametrize(
    ("count", "current", "forecast", "both"),
    [
        (1, 1, 2, 3),
        (2, 2, 4, 6),
        (3, 3, 6, 8),
        (5, 5, 9, 13),
        (10, 10, 18, 26),
        (100, 100, 180, 260),
    ],
)
def test_each_call_is_weighed_and_rounded_up_to_whole_calls(
    open_meteo, count, current, forecast, both
):
    locations = [PARIS_FR] * count

    assert open_meteo.call_weight(locations) == current
    assert open_meteo.call_weight(locations, kind=FORECAST) == forecast
    assert open_meteo.call_weight(locations, kind=CURRENT_AND_FORECAST) == both


def test_both_at_once_never_cost_more_than_two_calls(open_meteo):
    for count in range(1, 101):
        locations = [PARIS_FR] * count
        apart = open_meteo.call_weight(locations) + open_meteo.call_weight(locations, kind=FORECAST)
        assert open_meteo.call_weight(locations, kind=CURRENT_AND_FORECAST) <= apart
    assert open_meteo.call_weight([PARIS_FR] * 100, kind=CURRENT_AND_FORECAST) == 260 < 280


def test_a_split_call_pays_for_each_request(open_meteo):
    assert open_meteo.call_weight([PARIS_FR] * 150, kind=FORECAST) == 180 + 90


def test_an_unknown_kind_of_call_is_refused(open_meteo):
    with pytest.raises(ValueError, match="Unknown kind"):
        open_meteo.call_weight([PARIS_FR], kind="history")


# --- Failures, mapped as for readings -------------------------------------------------------


def test_429_on_a_forecast_is_transient_and_uses_retry_after(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_429")

    with pytest.raises(ProviderError) as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is False
    assert caught.value.retry_after == 23.0
    assert "Minutely API request limit exceeded" in caught.value.message


def test_429_on_both_at_once_is_mapped_the_same_way(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_429")

    with pytest.raises(ProviderError) as caught:
        open_meteo.current_and_forecast([PARIS_FR])

    assert caught.value.retry_after == 23.0


def test_a_server_error_on_a_forecast_is_transient(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_500")

    with pytest.raises(ProviderError, match="HTTP 502") as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_a_bad_forecast_request_is_permanent(mocked, open_meteo):
    replay(mocked, "open_meteo/error_400")

    with pytest.raises(ProviderError, match="Latitude must be in range") as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is True


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
    ],
)
def test_a_forecast_that_times_out_is_transient(mocked, open_meteo, failure):
    mocked.get(FORECAST_URL, body=failure)

    with pytest.raises(ProviderError, match="did not answer in time") as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_a_forecast_in_malformed_json_is_transient(mocked, open_meteo):
    replay(mocked, "open_meteo/forecast_malformed")

    with pytest.raises(ProviderError, match="could not be read") as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is False


def _one(**changes) -> dict:
    body = recording("open_meteo/hourly_daily_one")["response"]["json"]
    for section, values in changes.items():
        body[section] = values if values is None else {**body[section], **values}
    return body


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"latitude": 48.86},
        _one(hourly=None),
        _one(daily={"time": "today"}),
        _one(hourly={"temperature_2m": [1.0, 2.0]}),
        _one(hourly={"time": ["soon"] * 72}),
        _one(daily={"weather_code": ["rain"] * 8}),
    ],
)
def test_a_forecast_in_an_unexpected_shape_is_transient(mocked, open_meteo, body):
    mocked.get(FORECAST_URL, json=body)

    with pytest.raises(ProviderError, match="unexpected shape") as caught:
        open_meteo.forecast([PARIS_FR])

    assert caught.value.permanent is False


def test_without_a_date_header_the_forecast_is_issued_now(mocked, open_meteo):
    body = recording("open_meteo/hourly_daily_one")["response"]["json"]
    mocked.get(FORECAST_URL, json=body)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    forecast = open_meteo.forecast([PARIS_FR])[1]

    assert before <= forecast.issued_at <= dt.datetime.now(dt.UTC)
