"""OpenWeather: geocoding, current weather and the free 5-day / 3-hour forecast with an API key,
one location per call."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any

import requests

from weather_provider.base import (
    FORECAST_HOURS,
    CityNotFound,
    Forecast,
    ForecastHour,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
from weather_provider.forecasts import fold_days, local_date, one_decimal, utc, whole
from weather_provider.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    QueryKeyAuth,
    answered_at,
    retry_after_seconds,
)
from weather_provider.names import normalise
from weather_provider.secrets import OPENWEATHER_KEY_HELP, Secret, openweather_api_key, redact

KEY_PREFIX = "ow:"
API_URL = "https://api.openweathermap.org"
MAX_GEOCODING_LIMIT = 5
# The free forecast (/data/2.5/forecast) gives 5 days in steps of 3 hours.
FORECAST_STEP_HOURS = 3
# How far (degrees) a place found again by name may lie from the coordinates in its key.
SAME_PLACE_DEGREES = 0.1
KEY_REFUSED = (
    "The OpenWeather API key was refused; check OPENWEATHER_API_KEY or OPENWEATHER_API_KEY_FILE "
    "(a new key takes up to two hours to work)."
)


def openweather_icon(code: int) -> str:
    """The dashboard icon for an OpenWeather condition code (2xx thunderstorm … 80x clouds)."""
    if 200 <= code < 300 or code == 781:
        return "thunderstorm"
    if 300 <= code < 400:
        return "drizzle"
    if 500 <= code < 600:
        return "rain"
    if 600 <= code < 700:
        return "snow"
    if 700 <= code < 800 and code != 771:
        return "fog"
    if code == 800:
        return "clear"
    if code in (801, 802):
        return "partly-cloudy"
    return "cloudy"


def condition_of(data: dict[str, Any]) -> tuple[str, str]:
    """Condition text ("Light rain") and dashboard icon of a weather or forecast entry."""
    weather = (data.get("weather") or [{}])[0]
    code = int(weather.get("id", 0))
    description = str(weather.get("description") or weather.get("main") or "Unknown")
    return description[:1].upper() + description[1:], openweather_icon(code)


def place_key(latitude: float, longitude: float, country: str, name: str) -> str:
    """A key `lookup` can find again: "ow:48.8589,2.3200,FR,Paris"."""
    return f"{KEY_PREFIX}{latitude:.4f},{longitude:.4f},{country},{name}"


def parse_key(key: str) -> tuple[float, float, str, str] | None:
    """(latitude, longitude, country, name) from a key, or None when it is not one of ours."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key.removeprefix(KEY_PREFIX).split(",", 3)
    if len(parts) != 4:
        return None
    latitude_text, longitude_text, country, name = parts
    try:
        latitude, longitude = float(latitude_text), float(longitude_text)
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180 and name.strip()):
        return None
    return latitude, longitude, country.strip().upper(), name.strip()


class OpenWeatherProvider(WeatherProvider):
    """OpenWeather's geocoding and /data/2.5/weather; every location is one call of the budget."""

    name = "openweather"
    label = "OpenWeather"
    batch_size = 1
    rate_limit = "60/minute;1000000/month"
    weight_per_location = True

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str = API_URL,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        # A missing key fails every call with how to set it, so pages and refreshes say why.
        self._given_key = None if api_key is None else Secret(api_key)
        self.base_url = base_url.rstrip("/")
        auth = QueryKeyAuth("appid", self._key)
        self.http = HttpClient(label=self.label, auth=auth, timeout=timeout)

    def __repr__(self) -> str:
        return f"OpenWeatherProvider({self.base_url})"

    def _key(self) -> str:
        """The key given, else the configured one (a rotated key file is picked up)."""
        if self._given_key is None:
            return openweather_api_key()
        if not self._given_key.reveal():
            raise ProviderError(OPENWEATHER_KEY_HELP, permanent=True)
        return self._given_key.reveal()

    def close(self) -> None:
        self.http.close()

    # --- HTTP ---------------------------------------------------------------------------

    def _get(
        self, path: str, params: dict[str, Any], *, not_found: str | None = None
    ) -> requests.Response:
        """A successful answer; every failure mapped to a ProviderError by `_failure`."""
        self._key()  # fails early, with how to set the key, when there is none
        response = self.http.get(f"{self.base_url}{path}", params=params)
        if response.status_code == 200:
            return response
        raise self._failure(response, not_found=not_found)

    def _call(self, path: str, params: dict[str, Any], *, not_found: str | None = None) -> Any:
        return self.http.json(self._get(path, params, not_found=not_found))

    def _failure(self, response: requests.Response, *, not_found: str | None) -> ProviderError:
        status = response.status_code
        if status == 401:
            return ProviderError(KEY_REFUSED, permanent=True)
        if status == 404 and not_found is not None:
            return CityNotFound(not_found)
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"), default=60.0)
            return ProviderError(
                "OpenWeather's request limit is spent for now; trying again later.",
                retry_after=wait,
            )
        if status >= 500:
            return ProviderError(f"OpenWeather is not answering properly (HTTP {status}).")
        detail = ""
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json()
        if isinstance(body, dict) and body.get("message"):
            detail = f": {redact(str(body['message']))[:200]}"
        return ProviderError(
            f"OpenWeather refused the request (HTTP {status}{detail}).", permanent=True
        )

    def _unexpected(self) -> ProviderError:
        return ProviderError("OpenWeather sent an answer in an unexpected shape.")

    # --- Geocoding ----------------------------------------------------------------------

    def _place(self, item: dict[str, Any]) -> Place:
        name = str(item["name"])
        country = str(item.get("country") or "").upper()
        latitude, longitude = round(float(item["lat"]), 4), round(float(item["lon"]), 4)
        return Place(
            key=place_key(latitude, longitude, country, name),
            name=name,
            country=country,
            admin1=str(item.get("state") or ""),
            latitude=latitude,
            longitude=longitude,
        )

    def _geocode(
        self, path: str, params: dict[str, Any], *, query: str
    ) -> list[tuple[dict, Place]]:
        data = self._call(path, params, not_found=query)
        if not isinstance(data, list):
            raise self._unexpected()
        try:
            return [(item, self._place(item)) for item in data]
        except (KeyError, TypeError, ValueError):
            raise self._unexpected() from None

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        text = query.strip()
        if not text:
            return []
        params = {"q": text, "limit": max(1, min(limit, MAX_GEOCODING_LIMIT))}
        places: list[Place] = []
        seen: set[tuple[str, str, str]] = set()
        # OpenWeather lists the same town twice when two of its sources disagree on coordinates.
        for _, place in self._geocode("/geo/1.0/direct", params, query=text):
            identity = (place.name, place.country, place.admin1)
            if identity not in seen:
                seen.add(identity)
                places.append(place)
        return places[:limit]

    def lookup(self, key: str) -> Place:
        text = key.strip()
        parsed = parse_key(text)
        if parsed is None:
            raise CityNotFound(text)
        latitude, longitude, country, name = parsed
        wanted = normalise(name)

        def same_name(item: dict) -> bool:
            names = [item.get("name") or "", *(item.get("local_names") or {}).values()]
            return wanted in {normalise(str(n)) for n in names}

        # The key must name a real place: reverse geocoding first, then the name itself.
        params = {"lat": f"{latitude:.4f}", "lon": f"{longitude:.4f}", "limit": 5}
        for item, place in self._geocode("/geo/1.0/reverse", params, query=name):
            if place.country == country and same_name(item):
                return self._found(place, latitude, longitude, name)
        params = {"q": f"{name},{country}", "limit": MAX_GEOCODING_LIMIT}
        for _, place in self._geocode("/geo/1.0/direct", params, query=name):
            near = abs(place.latitude - latitude) <= SAME_PLACE_DEGREES and (
                abs(place.longitude - longitude) <= SAME_PLACE_DEGREES
            )
            if place.country == country and near:
                return self._found(place, latitude, longitude, name)
        raise CityNotFound(name)

    def _found(self, place: Place, latitude: float, longitude: float, name: str) -> Place:
        """The place under the very key and name the search offered, so it stays one city."""
        return Place(
            key=place_key(latitude, longitude, place.country, name),
            name=name,
            country=place.country,
            admin1=place.admin1,
            latitude=latitude,
            longitude=longitude,
        )

    # --- Current weather ----------------------------------------------------------------

    def _reading(self, data: Any) -> Reading:
        main, wind = data["main"], data.get("wind") or {}
        condition, icon = condition_of(data)
        return Reading(
            observed_at=dt.datetime.fromtimestamp(int(data["dt"]), tz=dt.UTC),
            temperature=round(float(main["temp"]), 1),
            feels_like=round(float(main["feels_like"]), 1),
            humidity=round(main["humidity"]),
            clouds=round((data.get("clouds") or {}).get("all", 0)),
            wind_speed=round(float(wind.get("speed", 0.0)), 1),
            # A calm wind comes without a direction.
            wind_direction=round(wind.get("deg", 0)) % 360,
            precipitation_probability=None,
            pressure=round(float(main["pressure"]), 1),
            condition=condition,
            icon=icon,
        )

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        readings: dict[int | str, Reading] = {}
        for location in locations:
            params = {
                "lat": f"{location.latitude:.4f}",
                "lon": f"{location.longitude:.4f}",
                "units": "metric",
                "lang": "en",
            }
            data = self._call("/data/2.5/weather", params)
            try:
                readings[location.id] = self._reading(data)
            except (AttributeError, IndexError, KeyError, TypeError, ValueError):
                raise self._unexpected() from None
        return readings

    # --- Forecast -----------------------------------------------------------------------

    def _forecast_hour(self, row: dict[str, Any]) -> ForecastHour:
        main, wind = row["main"], row.get("wind") or {}
        condition, icon = condition_of(row)
        # No "rain" or "snow" in a step means none fell; both are the step's 3 hours, in mm.
        amounts = [(row.get(kind) or {}).get("3h") or 0.0 for kind in ("rain", "snow")]
        pop = row.get("pop")
        return ForecastHour(
            time=utc(row["dt"]),
            temperature=one_decimal(main["temp"]),
            feels_like=one_decimal(main.get("feels_like")),
            precipitation_probability=None if pop is None else whole(float(pop) * 100),
            precipitation=one_decimal(sum(float(amount) for amount in amounts)),
            wind_speed=one_decimal(wind.get("speed")),
            wind_gusts=one_decimal(wind.get("gust")),
            clouds=whole((row.get("clouds") or {}).get("all")),
            uv_index=None,
            condition=condition,
            icon=icon,
        )

    def _forecast(self, data: Any, issued_at: dt.datetime) -> Forecast:
        """Steps of 3 hours as they come, days folded from them in the city's local dates;
        sunrise and sunset only for the day the answer gives them (today)."""
        city = data["city"]
        offset = int(city.get("timezone") or 0)
        steps = sorted(
            (self._forecast_hour(row) for row in data["list"]), key=lambda step: step.time
        )
        if not steps:
            raise ValueError("a forecast without steps")
        sun = {}
        if city.get("sunrise") and city.get("sunset"):
            sunrise, sunset = utc(city["sunrise"]), utc(city["sunset"])
            sun[local_date(sunrise, offset)] = (sunrise, sunset)
        days = fold_days(steps, utc_offset_seconds=offset, step_hours=FORECAST_STEP_HOURS, sun=sun)
        horizon = steps[0].time + dt.timedelta(hours=FORECAST_HOURS)
        return Forecast(
            issued_at=issued_at,
            timezone="",
            utc_offset_seconds=offset,
            step_hours=FORECAST_STEP_HOURS,
            hourly=tuple(step for step in steps if step.time < horizon),
            daily=days,
        )

    def forecast(self, locations: Sequence[Location]) -> dict[int | str, Forecast]:
        forecasts: dict[int | str, Forecast] = {}
        for location in locations:
            params = {
                "lat": f"{location.latitude:.4f}",
                "lon": f"{location.longitude:.4f}",
                "units": "metric",
                "lang": "en",
            }
            response = self._get("/data/2.5/forecast", params)
            data = self.http.json(response)
            try:
                forecasts[location.id] = self._forecast(data, answered_at(response))
            except (AttributeError, IndexError, KeyError, OverflowError, TypeError, ValueError):
                raise self._unexpected() from None
        return forecasts
