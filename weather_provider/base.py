"""The provider interface: geocoding, current readings and forecasts, with a batch size and a
budget that every kind of call is weighed against."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple

CallKind = Literal["current", "forecast", "current_and_forecast"]
CURRENT: CallKind = "current"
FORECAST: CallKind = "forecast"
CURRENT_AND_FORECAST: CallKind = "current_and_forecast"
CALL_KINDS: tuple[CallKind, ...] = (CURRENT, FORECAST, CURRENT_AND_FORECAST)
# A forecast asks for this many hours from the current hour and this many local days from today:
# more than the 48 hours and 7 days shown, so that a stored forecast still covers them after a
# day boundary or a stretched refresh interval (at Open-Meteo the extra costs nothing).
FORECAST_HOURS = 72
FORECAST_DAYS = 8


class ProviderError(Exception):
    """A provider failed; `permanent` says whether retrying can help."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


class CityNotFound(ProviderError):
    """The provider knows no place by that name or key."""

    def __init__(self, query: str) -> None:
        super().__init__(f"No city called “{query}” was found.", permanent=True)
        self.query = query


@dataclass(frozen=True)
class Place:
    """A geocoded candidate; `key` lets the same provider find it again."""

    key: str
    name: str
    country: str
    admin1: str
    latitude: float
    longitude: float
    timezone: str = ""
    population: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Location:
    """Where to read the weather: an identifier chosen by the caller and coordinates."""

    id: int | str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Reading:
    """One observation, always in metric units (°C, m/s, hPa, %)."""

    observed_at: dt.datetime
    temperature: float
    feels_like: float
    humidity: int
    clouds: int
    wind_speed: float
    wind_direction: int
    precipitation_probability: int | None
    pressure: float
    condition: str
    icon: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ForecastHour:
    """One step of an hourly forecast, in metric units (°C, m/s, mm, %); None where the
    provider gives no value. `precipitation` is the amount over the step (see `step_hours`)."""

    time: dt.datetime
    temperature: float | None
    feels_like: float | None
    precipitation_probability: int | None
    precipitation: float | None
    wind_speed: float | None
    wind_gusts: float | None
    clouds: int | None
    uv_index: float | None
    condition: str
    icon: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ForecastDay:
    """One local day of a forecast, in metric units; sunrise and sunset are UTC instants."""

    date: dt.date
    temperature_max: float | None
    temperature_min: float | None
    precipitation_probability_max: int | None
    precipitation_sum: float | None
    wind_speed_max: float | None
    uv_index_max: float | None
    sunrise: dt.datetime | None
    sunset: dt.datetime | None
    condition: str
    icon: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Forecast:
    """A location's forecast: hours from the current hour (UTC, `step_hours` apart) and days from
    today in the location's local dates. `timezone` is an IANA name when the provider says
    one ("" otherwise); `utc_offset_seconds` is the offset at `issued_at`."""

    issued_at: dt.datetime
    timezone: str
    utc_offset_seconds: int
    step_hours: int
    hourly: tuple[ForecastHour, ...]
    daily: tuple[ForecastDay, ...]

    def as_dict(self) -> dict:
        return asdict(self)


class CurrentAndForecast(NamedTuple):
    """What `current_and_forecast` returns: both keyed by `Location.id`, each possibly partial."""

    readings: dict[int | str, Reading]
    forecasts: dict[int | str, Forecast]


class WeatherProvider(abc.ABC):
    """A source of geocoding, current weather and forecasts.

    `batch_size` is how many locations one call may carry; `rate_limit` is the provider's
    free-tier budget in the `limits` notation (`60/minute;1000000/month`), and
    `weight_per_location` says whether every location in a batch counts against it.
    `call_weight(locations, kind=...)` is what one call of each kind costs against it.
    """

    name: str = ""
    batch_size: int = 1
    rate_limit: str = ""
    weight_per_location: bool = False

    @abc.abstractmethod
    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        """Candidates for a typed name, most likely first; [] when nothing matches."""

    @abc.abstractmethod
    def lookup(self, key: str) -> Place:
        """The candidate a previous `search` returned under `key`; CityNotFound otherwise."""

    @abc.abstractmethod
    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        """Current readings keyed by `Location.id`, for at most `batch_size` locations."""

    @abc.abstractmethod
    def forecast(self, locations: Sequence[Location]) -> dict[int | str, Forecast]:
        """Forecasts keyed by `Location.id`, for at most `batch_size` locations."""

    def current_and_forecast(self, locations: Sequence[Location]) -> CurrentAndForecast:
        """Readings and forecasts at once, the cheapest way the provider offers; here a
        `current` call then a `forecast` call, which providers that can do better override."""
        return CurrentAndForecast(self.current(locations), self.forecast(locations))

    @property
    def budget(self) -> str:
        """The budget to enforce: PROVIDER_RATE_LIMIT when set, else this provider's free tier.

        The one place the budget text is decided; `limiter.provider_budget` reads it here.
        """
        from django.conf import settings

        override = (getattr(settings, "PROVIDER_RATE_LIMIT", "") or "").strip()
        return override or self.rate_limit.strip()

    def call_weight(self, locations: Sequence[Location], *, kind: CallKind = CURRENT) -> int:
        """How much one call of `kind` for these locations costs against the budget.

        Here every kind costs one per location (or one per call), and both at once cost a
        `current` call plus a `forecast` call, as `current_and_forecast` makes them.
        """
        if kind == CURRENT_AND_FORECAST:
            return self.call_weight(locations) + self.call_weight(locations, kind=FORECAST)
        if kind not in CALL_KINDS:
            raise ValueError(f"Unknown kind of call {kind!r}.")
        return len(locations) if self.weight_per_location else 1

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections."""
