"""The one provider factory: providers registered by name, chosen by WEATHER_PROVIDER."""

from __future__ import annotations

import threading
from importlib import import_module

from weather_provider.base import WeatherProvider

PROVIDERS: dict[str, str] = {
    "open-meteo": "weather_provider.open_meteo.OpenMeteoProvider",
    "openweather": "weather_provider.openweather.OpenWeatherProvider",
    "random": "weather_provider.random.RandomProvider",
}

_instances: dict[str, WeatherProvider] = {}
_lock = threading.Lock()


def provider_names() -> list[str]:
    return sorted(PROVIDERS)


def get_provider(name: str | None = None) -> WeatherProvider:
    """The configured provider: one shared instance per name and process."""
    if name is None:
        from django.conf import settings

        name = settings.WEATHER_PROVIDER
    with _lock:
        if name not in _instances:
            try:
                dotted = PROVIDERS[name]
            except KeyError:
                known = ", ".join(provider_names())
                raise ValueError(
                    f"Unknown WEATHER_PROVIDER {name!r}; choose one of: {known}."
                ) from None
            module_name, class_name = dotted.rsplit(".", 1)
            _instances[name] = getattr(import_module(module_name), class_name)()
        return _instances[name]


def reset_providers() -> None:
    """Forget the built providers, e.g. after settings change in tests."""
    with _lock:
        for provider in _instances.values():
            provider.close()
        _instances.clear()
