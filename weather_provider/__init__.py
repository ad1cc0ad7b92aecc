"""Weather providers behind one interface; no Django models live here."""

from weather_provider.base import (
    CityNotFound,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
from weather_provider.registry import get_provider

__all__ = [
    "CityNotFound",
    "Location",
    "Place",
    "ProviderError",
    "Reading",
    "WeatherProvider",
    "get_provider",
]
