"""A stored forecast as the API and the websocket show it: from the current hour and the city's
today, in the user's units (the one place)."""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo

from skywatch.times import iso_z
from subscriptions.measures import in_units
from subscriptions.models import Forecast
from weather_provider import Forecast as ProviderForecast

HOURS_AHEAD = 48
DAYS_AHEAD = 7

_HOUR_VALUES = (
    "temperature",
    "feels_like",
    "precipitation_probability",
    "precipitation",
    "wind_speed",
    "wind_gusts",
    "clouds",
    "uv_index",
)
_DAY_VALUES = (
    "temperature_max",
    "temperature_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_max",
    "uv_index_max",
)


def forecast_row_values(forecast: ProviderForecast) -> dict:
    """A provider's forecast as the columns of a Forecast row (times as ISO text in JSON)."""
    return {
        "issued_at": forecast.issued_at,
        "timezone": forecast.timezone,
        "utc_offset_seconds": forecast.utc_offset_seconds,
        "step_hours": forecast.step_hours,
        "hourly": [{**hour.as_dict(), "time": iso_z(hour.time)} for hour in forecast.hourly],
        "daily": [
            {
                **day.as_dict(),
                "date": day.date.isoformat(),
                "sunrise": iso_z(day.sunrise) if day.sunrise else None,
                "sunset": iso_z(day.sunset) if day.sunset else None,
            }
            for day in forecast.daily
        ],
    }


def city_today(forecast: Forecast, *, now: dt.datetime) -> dt.date:
    """Today's date where the city is (its time zone, else the offset the provider gave)."""
    zone: dt.tzinfo = dt.timezone(dt.timedelta(seconds=forecast.utc_offset_seconds))
    if forecast.timezone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(forecast.timezone)
    return now.astimezone(zone).date()


def hours_ahead(forecast: Forecast, *, now: dt.datetime, hours: int = HOURS_AHEAD) -> list[dict]:
    """The stored steps from the one holding `now` to `hours` later (metric, as stored)."""
    step = dt.timedelta(hours=forecast.step_hours or 1)
    start, end = now - step, now + dt.timedelta(hours=hours)
    return [
        hour for hour in forecast.hourly if start < dt.datetime.fromisoformat(hour["time"]) <= end
    ]


def days_ahead(forecast: Forecast, *, now: dt.datetime, days: int = DAYS_AHEAD) -> list[dict]:
    today = city_today(forecast, now=now).isoformat()
    return [day for day in forecast.daily if day["date"] >= today][:days]


def hour_as_dict(hour: dict, *, units: str) -> dict:
    return {
        "time": hour["time"],
        **{name: _value(name, hour.get(name), units) for name in _HOUR_VALUES},
        "condition": hour.get("condition", ""),
        "icon": hour.get("icon", ""),
    }


def day_as_dict(day: dict, *, units: str) -> dict:
    return {
        "date": day["date"],
        **{name: _value(name, day.get(name), units) for name in _DAY_VALUES},
        "sunrise": day.get("sunrise"),
        "sunset": day.get("sunset"),
        "condition": day.get("condition", ""),
        "icon": day.get("icon", ""),
    }


def _value(name: str, value, units: str):
    if value is None or name.startswith("precipitation_probability") or name == "clouds":
        return value
    return in_units(name, value, units)


def forecast_as_dict(
    forecast: Forecast,
    *,
    units: str,
    now: dt.datetime,
    hours: int = HOURS_AHEAD,
    days: int = DAYS_AHEAD,
) -> dict:
    """The contract's forecast: `hourly` from the current hour for `hours`, `daily` from the
    city's today for `days`, in `units`."""
    return {
        "issued_at": iso_z(forecast.issued_at),
        "units": units,
        "hourly": [
            hour_as_dict(h, units=units) for h in hours_ahead(forecast, now=now, hours=hours)
        ],
        "daily": [day_as_dict(d, units=units) for d in days_ahead(forecast, now=now, days=days)],
    }
