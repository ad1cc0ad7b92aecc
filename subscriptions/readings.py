"""A stored reading and its city as the API and the websocket show them (the one place)."""

from __future__ import annotations

from skywatch.times import iso_z
from subscriptions.measures import in_units
from subscriptions.models import City, Observation

# The observation fields reading_as_dict reads, for callers that fetch plain columns.
READING_FIELDS = (
    "observed_at",
    "temperature",
    "feels_like",
    "humidity",
    "clouds",
    "wind_speed",
    "wind_direction",
    "precipitation_probability",
    "pressure",
    "condition",
    "icon",
    "provider",
)


def reading_as_dict(observation: Observation, *, units: str, stale: bool = False) -> dict:
    return {
        "observed_at": iso_z(observation.observed_at),
        "temperature": in_units("temperature", observation.temperature, units),
        "feels_like": in_units("feels_like", observation.feels_like, units),
        "humidity": observation.humidity,
        "clouds": observation.clouds,
        "wind_speed": in_units("wind_speed", observation.wind_speed, units),
        "wind_direction": observation.wind_direction,
        "precipitation_probability": observation.precipitation_probability,
        "pressure": round(observation.pressure),
        "condition": observation.condition,
        "icon": observation.icon,
        "units": units,
        "provider": observation.provider,
        "stale": stale,
    }


def city_as_dict(city: City, *, brief: bool = False) -> dict:
    """A city as the API shows it, with its region and time zone (an IANA name, or "" when
    unknown); a weather search's city is `brief`: name, country and coordinates."""
    if brief:
        return {
            "id": city.pk,
            "name": city.name,
            "country": city.country,
            "latitude": city.latitude,
            "longitude": city.longitude,
        }
    return {
        "id": city.pk,
        "name": city.name,
        "country": city.country,
        "admin1": city.admin1,
        "latitude": city.latitude,
        "longitude": city.longitude,
        "timezone": city.timezone,
    }


def latest_reading_as_dict(city: City, *, units: str) -> dict | None:
    if city.latest is None:
        return None
    return reading_as_dict(city.latest, units=units, stale=city.stale)
