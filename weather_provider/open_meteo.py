"""Open-Meteo: free (non-commercial) geocoding, current weather and forecasts, many locations
per call, each call weighed as Open-Meteo counts it."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from typing import Any

import requests

from weather_provider.base import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
    FORECAST_DAYS,
    FORECAST_HOURS,
    CallKind,
    CityNotFound,
    CurrentAndForecast,
    Forecast,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
from weather_provider.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    QueryKeyAuth,
    answered_at,
    retry_after_seconds,
)
from weather_provider.names import split_country
from weather_provider.open_meteo_answers import (
    CURRENT_VARIABLES,
    DAILY_VARIABLES,
    HOURLY_VARIABLES,
    forecast_of,
    query_weight,
    reading_of,
    request_variables,
)
from weather_provider.secrets import open_meteo_api_key, redact

KEY_PREFIX = "om:"
FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1"
# A commercial key (OPEN_METEO_API_KEY) switches to the customer hosts.
CUSTOMER_FORECAST_URL = "https://customer-api.open-meteo.com/v1/forecast"
CUSTOMER_GEOCODING_URL = "https://customer-geocoding-api.open-meteo.com/v1"
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


class OpenMeteoProvider(WeatherProvider):
    """Open-Meteo's geocoding and forecast APIs; every location in a batch counts against the
    budget, by as many calls as its variables and days make (`call_weight`)."""

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

    def _get(
        self, url: str, params: dict[str, Any], *, not_found: str | None = None
    ) -> requests.Response:
        """A successful answer; every failure mapped to a ProviderError by `_failure`."""
        response = self.http.get(url, params=params)
        if response.status_code == 200:
            return response
        raise self._failure(response, not_found=not_found)

    def _call(self, url: str, params: dict[str, Any], *, not_found: str | None = None) -> Any:
        return self.http.json(self._get(url, params, not_found=not_found))

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

    # --- Weather: current, forecast, or both in one request --------------------------------

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

    def _params(self, kind: CallKind, chunk: Sequence[Location]) -> dict[str, Any]:
        """The request for a call of `kind`: current values with this hour's chance of rain,
        a forecast (hours from the current hour, local days from today), or both at once."""
        params: dict[str, Any] = {
            "latitude": ",".join(coordinate(location.latitude) for location in chunk),
            "longitude": ",".join(coordinate(location.longitude) for location in chunk),
            "wind_speed_unit": "ms",
            "timeformat": "unixtime",
        }
        if kind == CURRENT:
            return params | {
                "current": ",".join(CURRENT_VARIABLES),
                "hourly": "precipitation_probability",
                "forecast_hours": 1,
                "timezone": "GMT",
            }
        if kind not in (FORECAST, CURRENT_AND_FORECAST):
            raise ValueError(f"Unknown kind of call {kind!r}.")
        params |= {
            "hourly": ",".join(HOURLY_VARIABLES),
            "daily": ",".join(DAILY_VARIABLES),
            "forecast_hours": FORECAST_HOURS,
            "forecast_days": FORECAST_DAYS,
            # The city's own time zone, so that the days are its local dates.
            "timezone": "auto",
        }
        if kind == CURRENT_AND_FORECAST:
            params["current"] = ",".join(CURRENT_VARIABLES)
        return params

    def call_weight(self, locations: Sequence[Location], *, kind: CallKind = CURRENT) -> int:
        """Open-Meteo's own count of the requests a call makes, each rounded up to whole calls:
        a current call 1 per location (9 variables), a forecast 1.8 (18 variables over 8
        days), both at once 2.6 (26 variables) rather than 2.8 as two calls."""
        days = 1 if kind == CURRENT else FORECAST_DAYS
        return sum(
            math.ceil(
                query_weight(
                    locations=len(chunk),
                    variables=request_variables(self._params(kind, chunk)),
                    days=days,
                )
            )
            for chunk in self._chunks(locations)
        )

    def _fetch(self, kind: CallKind, chunk: list[Location]) -> CurrentAndForecast:
        response = self._get(self.forecast_url, self._params(kind, chunk))
        data = self.http.json(response)
        issued_at = answered_at(response)
        # One coordinate answers with an object, several with a list in the order asked.
        items = data if isinstance(data, list) else [data]
        if len(items) != len(chunk):
            raise self._unexpected()
        answer = CurrentAndForecast({}, {})
        try:
            for index, item in enumerate(items):
                position = int(item.get("location_id", index))
                if not 0 <= position < len(chunk):
                    raise IndexError(position)
                key = chunk[position].id
                if kind != FORECAST:
                    reading = reading_of(item)
                    if reading is not None:
                        answer.readings[key] = reading
                if kind != CURRENT:
                    answer.forecasts[key] = forecast_of(item, issued_at)
        except (AttributeError, IndexError, KeyError, OverflowError, TypeError, ValueError):
            raise self._unexpected() from None
        return answer

    def _weather(self, kind: CallKind, locations: Sequence[Location]) -> CurrentAndForecast:
        answer = CurrentAndForecast({}, {})
        for chunk in self._chunks(locations):
            part = self._fetch(kind, chunk)
            answer.readings.update(part.readings)
            answer.forecasts.update(part.forecasts)
        return answer

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        return self._weather(CURRENT, locations).readings

    def forecast(self, locations: Sequence[Location]) -> dict[int | str, Forecast]:
        return self._weather(FORECAST, locations).forecasts

    def current_and_forecast(self, locations: Sequence[Location]) -> CurrentAndForecast:
        """Both in one request: `current=` with `hourly=` and `daily=`, cheaper than two."""
        return self._weather(CURRENT_AND_FORECAST, locations)
