"""Open-Meteo: free (non-commercial) geocoding, current weather and forecasts, many locations
per call, each call weighed as Open-Meteo counts it."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction
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
    ForecastDay,
    ForecastHour,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
from weather_provider.conditions import describe_wmo
from weather_provider.forecasts import local_date, one_decimal, utc, whole
from weather_provider.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    QueryKeyAuth,
    answered_at,
    retry_after_seconds,
)
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

    def _forecast(self, item: dict[str, Any], issued_at: dt.datetime) -> Forecast:
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
                    reading = self._reading(item)
                    if reading is not None:
                        answer.readings[key] = reading
                if kind != CURRENT:
                    answer.forecasts[key] = self._forecast(item, issued_at)
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
