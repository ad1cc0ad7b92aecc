"""A stored reading as the API and the websocket show it, in the user's units (the one place)."""

from __future__ import annotations

from subscriptions.models import City, Observation

IMPERIAL = "imperial"
MS_TO_MPH = 2.236936


def celsius_to_fahrenheit(value: float) -> float:
    return value * 9 / 5 + 32


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
    temperature, feels_like, wind_speed = (
        observation.temperature,
        observation.feels_like,
        observation.wind_speed,
    )
    if units == IMPERIAL:
        temperature = celsius_to_fahrenheit(temperature)
        feels_like = celsius_to_fahrenheit(feels_like)
        wind_speed = wind_speed * MS_TO_MPH
    return {
        "observed_at": observation.observed_at.isoformat().replace("+00:00", "Z"),
        "temperature": round(temperature, 1),
        "feels_like": round(feels_like, 1),
        "humidity": observation.humidity,
        "clouds": observation.clouds,
        "wind_speed": round(wind_speed, 1),
        "wind_direction": observation.wind_direction,
        "precipitation_probability": observation.precipitation_probability,
        "pressure": round(observation.pressure),
        "condition": observation.condition,
        "icon": observation.icon,
        "units": units,
        "provider": observation.provider,
        "stale": stale,
    }


def city_as_dict(city: City) -> dict:
    return {
        "id": city.pk,
        "name": city.name,
        "country": city.country,
        "admin1": city.admin1,
        "latitude": city.latitude,
        "longitude": city.longitude,
    }


def latest_reading_as_dict(city: City, *, units: str) -> dict | None:
    if city.latest is None:
        return None
    return reading_as_dict(city.latest, units=units, stale=city.stale)
