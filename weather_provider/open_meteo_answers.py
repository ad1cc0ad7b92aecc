"""What Open-Meteo is asked and answers: its variables, how it weighs a request, and its
answers read into readings and forecasts (no HTTP here: open_meteo.py calls)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

from weather_provider.base import Forecast, ForecastDay, ForecastHour, Reading
from weather_provider.conditions import describe_wmo
from weather_provider.forecasts import local_date, one_decimal, utc, whole

CURRENT_VARIABLES = (
    "temperature_2m",
    "relative_humidity_2m",
    "apparent_temperature",
    "cloud_cover",
    "wind_speed_10m",
    "wind_direction_10m",
    "pressure_msl",
    "weather_code",
)
HOURLY_VARIABLES = (
    "temperature_2m",
    "apparent_temperature",
    "precipitation_probability",
    "precipitation",
    "wind_speed_10m",
    "wind_gusts_10m",
    "cloud_cover",
    "uv_index",
    "weather_code",
)
DAILY_VARIABLES = (
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_10m_max",
    "uv_index_max",
    "sunrise",
    "sunset",
    "weather_code",
)
# Open-Meteo counts a location as one call up to 10 variables and 14 days, and proportionally
# beyond (15 variables: 1.5 calls); see `query_weight`.
REFERENCE_VARIABLES = 10
REFERENCE_DAYS = 14
# Servers commonly refuse request lines over 8 KB; stay clear of it with the other parameters.


def query_weight(*, locations: int, variables: int, days: int) -> Fraction:
    """What Open-Meteo counts for one request: per location max(1, variables / 10 * max(1,
    days / 14)), summed over the locations, fractions kept (ForecastApiResult.swift,
    `calculateQueryWeight`; "15 weather variables over 2 weeks count as 1.5 calls")."""
    per_location = Fraction(variables, REFERENCE_VARIABLES) * max(
        Fraction(1), Fraction(days, REFERENCE_DAYS)
    )
    return locations * max(Fraction(1), per_location)


def request_variables(params: dict[str, Any]) -> int:
    """How many variables a request names, over its current, hourly and daily sections."""
    return sum(
        len(str(params[section]).split(","))
        for section in ("current", "hourly", "daily", "minutely_15")
        if params.get(section)
    )


def hour_value(hourly: dict[str, Any], variable: str, at: int) -> int | None:
    """The hourly value of the hour that contains the unix time `at`, rounded; None if absent."""
    times = hourly.get("time") or []
    values = hourly.get(variable) or []
    best = None
    for index, start in enumerate(times):
        if start <= at and index < len(values):
            best = values[index]
    if best is None and values and times and at < times[0]:
        best = values[0]
    return None if best is None else round(best)


def rows(section: dict[str, Any], variables: Sequence[str]) -> Iterator[tuple[int, dict]]:
    """(time, {variable: value}) for each time of an hourly or daily section; a variable the
    answer leaves out reads None, one whose values do not match the times is a ValueError."""
    times = section["time"]
    if not isinstance(times, list):
        raise TypeError("time is not a list")
    columns = {}
    for variable in variables:
        values = section.get(variable)
        if values is None:
            values = [None] * len(times)
        if not isinstance(values, list) or len(values) != len(times):
            raise ValueError(f"{variable} does not match the times")
        columns[variable] = values
    for index, at in enumerate(times):
        yield int(at), {variable: columns[variable][index] for variable in variables}


def reading_of(item: dict[str, Any]) -> Reading | None:
    """One location's reading; None when Open-Meteo has no value for a required field."""
    current = item["current"]
    values = [current.get(name) for name in CURRENT_VARIABLES[:-1]]
    if any(value is None for value in values):
        return None
    temperature, humidity, feels_like, clouds, wind_speed, wind_direction, pressure = values
    at = int(current["time"])
    condition, icon = describe_wmo(current.get("weather_code"))
    return Reading(
        observed_at=dt.datetime.fromtimestamp(at, tz=dt.UTC),
        temperature=round(float(temperature), 1),
        feels_like=round(float(feels_like), 1),
        humidity=round(humidity),
        clouds=round(clouds),
        wind_speed=round(float(wind_speed), 1),
        wind_direction=round(wind_direction) % 360,
        precipitation_probability=hour_value(
            item.get("hourly") or {}, "precipitation_probability", at
        ),
        pressure=round(float(pressure), 1),
        condition=condition,
        icon=icon,
    )


def forecast_of(item: dict[str, Any], issued_at: dt.datetime) -> Forecast:
    """One location's forecast; a value Open-Meteo leaves out (null) stays None."""
    offset = int(item.get("utc_offset_seconds") or 0)
    hours = []
    for at, row in rows(item["hourly"], HOURLY_VARIABLES):
        condition, icon = describe_wmo(row["weather_code"])
        hours.append(
            ForecastHour(
                time=utc(at),
                temperature=one_decimal(row["temperature_2m"]),
                feels_like=one_decimal(row["apparent_temperature"]),
                precipitation_probability=whole(row["precipitation_probability"]),
                precipitation=one_decimal(row["precipitation"]),
                wind_speed=one_decimal(row["wind_speed_10m"]),
                wind_gusts=one_decimal(row["wind_gusts_10m"]),
                clouds=whole(row["cloud_cover"]),
                uv_index=one_decimal(row["uv_index"]),
                condition=condition,
                icon=icon,
            )
        )
    days = []
    for midnight, row in rows(item["daily"], DAILY_VARIABLES):
        condition, icon = describe_wmo(row["weather_code"])
        days.append(
            ForecastDay(
                # Daily times are local midnights; the day's middle keeps its date even
                # when a daylight saving change moved the offset since `utc_offset_seconds`.
                date=local_date(utc(midnight) + dt.timedelta(hours=12), offset),
                temperature_max=one_decimal(row["temperature_2m_max"]),
                temperature_min=one_decimal(row["temperature_2m_min"]),
                precipitation_probability_max=whole(row["precipitation_probability_max"]),
                precipitation_sum=one_decimal(row["precipitation_sum"]),
                wind_speed_max=one_decimal(row["wind_speed_10m_max"]),
                uv_index_max=one_decimal(row["uv_index_max"]),
                sunrise=utc(row["sunrise"]) if row["sunrise"] else None,
                sunset=utc(row["sunset"]) if row["sunset"] else None,
                condition=condition,
                icon=icon,
            )
        )
    return Forecast(
        issued_at=issued_at,
        timezone=str(item.get("timezone") or ""),
        utc_offset_seconds=offset,
        step_hours=1,
        hourly=tuple(hours),
        daily=tuple(days),
    )
