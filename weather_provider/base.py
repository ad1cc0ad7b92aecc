"""The provider interface: geocoding and current readings, with a batch size and a budget."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass


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


class WeatherProvider(abc.ABC):
    """A source of geocoding and current weather.

    `batch_size` is how many locations one `current` call may carry; `rate_limit` is the
    provider's free-tier budget in the `limits` notation (`60/minute;1000000/month`), and
    `weight_per_location` says whether every location in a batch counts against it.
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

    @property
    def budget(self) -> str:
        """The budget to enforce: PROVIDER_RATE_LIMIT when set, else this provider's free tier."""
        from django.conf import settings

        return (getattr(settings, "PROVIDER_RATE_LIMIT", "") or "").strip() or self.rate_limit

    def call_weight(self, locations: Sequence[Location]) -> int:
        """How much one `current` call for these locations costs against the budget."""
        return len(locations) if self.weight_per_location else 1

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections."""
