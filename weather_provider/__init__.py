"""Weather providers behind one interface; no Django models live here."""

from weather_provider.base import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
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
from weather_provider.registry import get_provider

__all__ = [
    "CURRENT",
    "CURRENT_AND_FORECAST",
    "FORECAST",
    "CallKind",
    "CityNotFound",
    "CurrentAndForecast",
    "Forecast",
    "ForecastDay",
    "ForecastHour",
    "Location",
    "Place",
    "ProviderError",
    "Reading",
    "WeatherProvider",
    "get_provider",
]
