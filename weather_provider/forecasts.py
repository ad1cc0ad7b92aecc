"""Forecast helpers every provider shares: local dates, rounding, and days folded from hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from weather_provider.base import ForecastDay, ForecastHour
from weather_provider.conditions import ICONS

# A day's condition is its most severe step's, as Open-Meteo's daily weather code is; the icons
# are listed from the mildest to the most severe.
SEVERITY = {icon: rank for rank, icon in enumerate(ICONS)}
# A later day is kept only when its steps cover this many of its hours (all but one 3-hour
# step): the morning of a day that the forecast ends in would give a wrong high and low.
MIN_DAY_HOURS = 21

SunTimes = tuple[dt.datetime | None, dt.datetime | None]


def utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)


def local_date(instant: dt.datetime, utc_offset_seconds: int) -> dt.date:
    """The calendar date at `instant` in a place `utc_offset_seconds` ahead of UTC."""
    return (instant + dt.timedelta(seconds=utc_offset_seconds)).date()


def one_decimal(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def _largest(values: Sequence[float | int | None]) -> float | int | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def _smallest(values: Sequence[float | int | None]) -> float | int | None:
    known = [value for value in values if value is not None]
    return min(known) if known else None


def _total(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def fold_day(
    date: dt.date, hours: Sequence[ForecastHour], sun: SunTimes = (None, None)
) -> ForecastDay:
    """One day from its forecast steps: extremes, the chance of rain at its highest, the sum
    of precipitation, and the condition of its most severe step."""
    worst = max(hours, key=lambda hour: (SEVERITY.get(hour.icon, 0), hour.precipitation or 0))
    sunrise, sunset = sun
    return ForecastDay(
        date=date,
        temperature_max=one_decimal(_largest([hour.temperature for hour in hours])),
        temperature_min=one_decimal(_smallest([hour.temperature for hour in hours])),
        precipitation_probability_max=whole(
            _largest([hour.precipitation_probability for hour in hours])
        ),
        precipitation_sum=one_decimal(_total([hour.precipitation for hour in hours])),
        wind_speed_max=one_decimal(_largest([hour.wind_speed for hour in hours])),
        uv_index_max=one_decimal(_largest([hour.uv_index for hour in hours])),
        sunrise=sunrise,
        sunset=sunset,
        condition=worst.condition,
        icon=worst.icon,
    )


def fold_days(
    hours: Sequence[ForecastHour],
    *,
    utc_offset_seconds: int,
    step_hours: int,
    sun: Mapping[dt.date, SunTimes] | None = None,
) -> tuple[ForecastDay, ...]:
    """Local days folded from forecast steps: the first day however few steps it has (it is
    today), each later one when its steps cover at least MIN_DAY_HOURS of it."""
    by_date: dict[dt.date, list[ForecastHour]] = {}
    for hour in hours:
        by_date.setdefault(local_date(hour.time, utc_offset_seconds), []).append(hour)
    days = []
    for index, (date, steps) in enumerate(sorted(by_date.items())):
        if index and len(steps) * step_hours < MIN_DAY_HOURS:
            continue
        days.append(fold_day(date, steps, (sun or {}).get(date, (None, None))))
    return tuple(days)
