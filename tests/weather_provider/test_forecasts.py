"""Days folded from forecast steps: extremes, sums, the most severe condition, whole days only."""

from __future__ import annotations

import datetime as dt

from weather_provider.base import ForecastHour
from weather_provider.forecasts import fold_day, fold_days, local_date

START = dt.datetime(2026, 11, 23, 21, 0, tzinfo=dt.UTC)


def step(hours_after: int, *, temperature=5.0, rain=0.0, chance=10, icon="cloudy", **other):
    return ForecastHour(
        time=START + dt.timedelta(hours=hours_after),
        temperature=temperature,
        feels_like=other.get("feels_like", temperature),
        precipitation_probability=chance,
        precipitation=rain,
        wind_speed=other.get("wind_speed", 3.0),
        wind_gusts=None,
        clouds=80,
        uv_index=other.get("uv_index"),
        condition=icon.title(),
        icon=icon,
    )


def test_a_day_takes_the_extremes_the_sum_and_the_most_severe_condition():
    steps = [
        step(0, temperature=4.04, rain=0.31, chance=40, icon="rain"),
        step(3, temperature=-1.25, rain=None, chance=None, icon="thunderstorm", wind_speed=9.0),
        step(6, temperature=7.0, rain=0.12, chance=90, icon="clear", uv_index=1.24),
    ]

    day = fold_day(dt.date(2026, 11, 23), steps, (START, START + dt.timedelta(hours=9)))

    assert (day.temperature_max, day.temperature_min) == (7.0, -1.2)
    assert (day.precipitation_sum, day.precipitation_probability_max) == (0.4, 90)
    assert (day.wind_speed_max, day.uv_index_max) == (9.0, 1.2)
    assert (day.condition, day.icon) == ("Thunderstorm", "thunderstorm")
    assert day.sunset - day.sunrise == dt.timedelta(hours=9)


def test_a_value_no_step_has_is_none():
    day = fold_day(dt.date(2026, 11, 23), [step(0, chance=None, rain=None)])

    assert (day.precipitation_probability_max, day.precipitation_sum, day.uv_index_max) == (
        None,
        None,
        None,
    )
    assert (day.sunrise, day.sunset) == (None, None)


def test_days_are_local_today_is_kept_and_a_trailing_partial_day_is_not():
    # 21:00 UTC at UTC+2 is 23:00: one step today, eight tomorrow, four the day after.
    steps = [step(3 * n) for n in range(13)]

    days = fold_days(steps, utc_offset_seconds=7200, step_hours=3)

    assert [day.date for day in days] == [dt.date(2026, 11, 23), dt.date(2026, 11, 24)]


def test_local_dates_follow_the_offset():
    assert local_date(START, 0) == dt.date(2026, 11, 23)
    assert local_date(START, 3 * 3600) == dt.date(2026, 11, 24)
    assert local_date(START, -22 * 3600) == dt.date(2026, 11, 22)
