"""Open-Meteo: free (non-commercial) geocoding and current weather, many locations per call."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import requests

from weather_provider.base import (
    CityNotFound,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
from weather_provider.conditions import describe_wmo
from weather_provider.http import DEFAULT_TIMEOUT, HttpClient, QueryKeyAuth, retry_after_seconds
from weather_provider.names import split_country
from weather_provider.secrets import open_meteo_api_key, redact

KEY_PREFIX = "om:"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1"
# A commercial key (OPEN_METEO_API_KEY) switches to the customer hosts.
CUSTOMER_FORECAST_URL = "https://customer-api.open-meteo.com/v1/forecast"
CUSTOMER_GEOCODING_URL = "https://customer-geocoding-api.open-meteo.com/v1"
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
# Servers commonly refuse request lines over 8 KB; stay clear of it with the other parameters.
MAX_COORDINATE_CHARS = 6000
MAX_GEOCODING_COUNT = 100
MAX_GEONAME_ID = 2**31 - 1


def coordinate(value: float) -> str:
    """A coordinate to four decimals (about 11 m) without trailing zeros: 2.3500 → "2.35"."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def quota_wait(reason: str, now: dt.datetime) -> float:
    """Seconds until the window named in Open-Meteo's 429 reason ("Minutely …") opens again."""
    lowered = reason.lower()
    if lowered.startswith("hourly"):
        return max(60.0, 3600 - (now.minute * 60 + now.second))
    if lowered.startswith("daily"):
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(60.0, (midnight - now).total_seconds())
    return 60.0


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


class OpenMeteoProvider(WeatherProvider):
    """Open-Meteo's geocoding and forecast APIs; every location in a batch costs one call."""

    name = "open-meteo"
    label = "Open-Meteo"
    batch_size = 100
    rate_limit = "600/minute;5000/hour;10000/day"
    weight_per_location = True

    def __init__(
        self,
        *,
        api_key: str | None = None,
        forecast_url: str | None = None,
        geocoding_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        key = open_meteo_api_key() if api_key is None else api_key
        self.commercial = bool(key)
        default_forecast = CUSTOMER_FORECAST_URL if key else FORECAST_URL
        default_geocoding = CUSTOMER_GEOCODING_URL if key else GEOCODING_URL
        self.forecast_url = forecast_url or default_forecast
        self.geocoding_url = (geocoding_url or default_geocoding).rstrip("/")
        auth = QueryKeyAuth("apikey", key) if key else None
        self.http = HttpClient(label=self.label, auth=auth, timeout=timeout)

    def __repr__(self) -> str:
        return f"OpenMeteoProvider(commercial={self.commercial})"

    def close(self) -> None:
        self.http.close()

    # --- HTTP ---------------------------------------------------------------------------

    def _call(self, url: str, params: dict[str, Any], *, not_found: str | None = None) -> Any:
        response = self.http.get(url, params=params)
        if response.status_code == 200:
            return self.http.json(response)
        raise self._failure(response, not_found=not_found)

    def _failure(self, response: requests.Response, *, not_found: str | None) -> ProviderError:
        status = response.status_code
        reason = ""
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json()
        if isinstance(body, dict):
            reason = redact(str(body.get("reason") or ""))[:200]
        if status == 400 and not_found is not None:
            return CityNotFound(not_found)
        if status == 400:
            return ProviderError(
                f"Open-Meteo refused the request: {reason or 'bad request'}.", permanent=True
            )
        if status in (401, 403):
            return ProviderError(
                "The Open-Meteo API key was refused; check OPEN_METEO_API_KEY.", permanent=True
            )
        if status == 429:
            wait = retry_after_seconds(
                response.headers.get("Retry-After"),
                default=quota_wait(reason, dt.datetime.now(dt.UTC)),
            )
            return ProviderError(
                f"Open-Meteo's request limit is spent for now ({reason or 'HTTP 429'}).",
                retry_after=wait,
            )
        if status >= 500:
            return ProviderError(f"Open-Meteo is not answering properly (HTTP {status}).")
        return ProviderError(f"Open-Meteo refused the request (HTTP {status}).", permanent=True)

    def _unexpected(self) -> ProviderError:
        return ProviderError("Open-Meteo sent an answer in an unexpected shape.")

    # --- Geocoding ----------------------------------------------------------------------

    def _place(self, item: dict[str, Any]) -> Place:
        return Place(
            key=f"{KEY_PREFIX}{int(item['id'])}",
            name=str(item["name"]),
            country=str(item.get("country_code") or "").upper(),
            admin1=str(item.get("admin1") or ""),
            latitude=round(float(item["latitude"]), 4),
            longitude=round(float(item["longitude"]), 4),
            timezone=str(item.get("timezone") or ""),
            population=int(item.get("population") or 0),
        )

    def _places(self, data: Any) -> list[Place]:
        if not isinstance(data, dict):
            raise self._unexpected()
        try:
            return [self._place(item) for item in data.get("results") or []]
        except (KeyError, TypeError, ValueError):
            raise self._unexpected() from None

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        name, country = split_country(query)
        if not name:
            return []
        params: dict[str, Any] = {
            "name": name,
            "count": max(1, min(limit, MAX_GEOCODING_COUNT)),
            "language": "en",
            "format": "json",
        }
        if country:
            params["countryCode"] = country
        places = self._places(self._call(f"{self.geocoding_url}/search", params))
        if not places and country:
            # "Paris, TX" names a state, not a country: ask again with the text as typed.
            params.pop("countryCode")
            params["name"] = query.strip()
            places = self._places(self._call(f"{self.geocoding_url}/search", params))
        return places[:limit]

    def lookup(self, key: str) -> Place:
        text = key.strip()
        identifier = text.removeprefix(KEY_PREFIX)
        if not text.startswith(KEY_PREFIX) or not identifier.isdigit():
            raise CityNotFound(text)
        if not 0 < int(identifier) <= MAX_GEONAME_ID:
            raise CityNotFound(text)
        params = {"id": int(identifier), "language": "en", "format": "json"}
        data = self._call(f"{self.geocoding_url}/get", params, not_found=text)
        try:
            return self._place(data)
        except (KeyError, TypeError, ValueError):
            raise self._unexpected() from None

    # --- Current weather ----------------------------------------------------------------

    def _chunks(self, locations: Sequence[Location]) -> Iterator[list[Location]]:
        """At most `batch_size` locations per request, fewer when the URL would grow too long."""
        chunk: list[Location] = []
        length = 0
        for location in locations:
            # Each coordinate and its URL-encoded comma ("%2C").
            size = len(coordinate(location.latitude)) + len(coordinate(location.longitude)) + 6
            if chunk and (len(chunk) >= self.batch_size or length + size > MAX_COORDINATE_CHARS):
                yield chunk
                chunk, length = [], 0
            chunk.append(location)
            length += size
        if chunk:
            yield chunk

    def _reading(self, item: dict[str, Any]) -> Reading | None:
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

    def _current_chunk(self, chunk: list[Location]) -> dict[int | str, Reading]:
        params = {
            "latitude": ",".join(coordinate(location.latitude) for location in chunk),
            "longitude": ",".join(coordinate(location.longitude) for location in chunk),
            "current": ",".join(CURRENT_VARIABLES),
            "hourly": "precipitation_probability",
            "forecast_hours": 1,
            "wind_speed_unit": "ms",
            "timezone": "GMT",
            "timeformat": "unixtime",
        }
        data = self._call(self.forecast_url, params)
        # One coordinate answers with an object, several with a list in the order asked.
        items = data if isinstance(data, list) else [data]
        if len(items) != len(chunk):
            raise self._unexpected()
        readings: dict[int | str, Reading] = {}
        try:
            for index, item in enumerate(items):
                position = int(item.get("location_id", index))
                if not 0 <= position < len(chunk):
                    raise IndexError(position)
                reading = self._reading(item)
                if reading is not None:
                    readings[chunk[position].id] = reading
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            raise self._unexpected() from None
        return readings

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        readings: dict[int | str, Reading] = {}
        for chunk in self._chunks(locations):
            readings.update(self._current_chunk(chunk))
        return readings
