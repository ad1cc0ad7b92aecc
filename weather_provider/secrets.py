"""Provider keys: loaded from the environment or a mounted file, and kept out of logs and errors
(`redact` is what the log filter of every handler, skywatch.logs, applies)."""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path

from weather_provider.base import ProviderError

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; real keys are 32 characters or more.
MIN_SECRET_LENGTH = 6
# Query parameters that carry a key, whatever its value: OpenWeather `appid`, Open-Meteo `apikey`.
KEY_PARAMETER = re.compile(r"(?i)\b(appid|apikey|api_key)=[^&\s\"'#<>)]+")

OPENWEATHER_KEY_HELP = (
    "OpenWeather needs an API key: set OPENWEATHER_API_KEY, or OPENWEATHER_API_KEY_FILE to a "
    "file that holds it (see the README, “Weather providers”)."
)

_registered: set[str] = set()
_registered_lock = threading.Lock()
_file_cache: dict[str, tuple[int, str]] = {}


def _setting(name: str) -> str:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    # The log filter may run before Django is set up; there are no configured keys then.
    try:
        return str(getattr(settings, name, "") or "").strip()
    except ImproperlyConfigured:
        return ""


def _read_key_file(path: str) -> str:
    """The stripped contents of a key file, re-read only when the file changes."""
    file = Path(path)
    stamp = file.stat().st_mtime_ns
    cached = _file_cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    value = file.read_text(encoding="utf-8").strip()
    _file_cache[path] = (stamp, value)
    return value


def register_secret(value: str) -> None:
    """Remember a secret in use so that `redact` and `secret_values` always cover it."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _registered_lock:
            _registered.add(value)


class Secret:
    """A secret value that its repr and str never show."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__


def openweather_api_key() -> str:
    """The OpenWeather key from OPENWEATHER_API_KEY, else from the file OPENWEATHER_API_KEY_FILE."""
    key = _setting("OPENWEATHER_API_KEY")
    path = _setting("OPENWEATHER_API_KEY_FILE")
    if not key and path:
        problem = ""
        try:
            key = _read_key_file(path)
        except OSError as exc:
            problem = (
                f"OPENWEATHER_API_KEY_FILE names {path}, which cannot be read ({exc.strerror}); "
                "put the OpenWeather key there or set OPENWEATHER_API_KEY."
            )
        if problem:
            raise ProviderError(problem, permanent=True)
        if not key:
            raise ProviderError(
                f"OPENWEATHER_API_KEY_FILE names {path}, which is empty.", permanent=True
            )
    if not key:
        raise ProviderError(OPENWEATHER_KEY_HELP, permanent=True)
    register_secret(key)
    return key


def open_meteo_api_key() -> str:
    """The optional commercial Open-Meteo key (OPEN_METEO_API_KEY); empty for the free API."""
    key = _setting("OPEN_METEO_API_KEY")
    register_secret(key)
    return key


def secret_values() -> list[str]:
    """Every provider secret configured or in use, longest first, for scrubbing error reports."""
    with _registered_lock:
        values = set(_registered)
    values.add(_setting("OPENWEATHER_API_KEY"))
    values.add(_setting("OPEN_METEO_API_KEY"))
    path = _setting("OPENWEATHER_API_KEY_FILE")
    if path:
        with contextlib.suppress(OSError):
            values.add(_read_key_file(path))
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str) -> str:
    """The text with every provider secret and every key-carrying query parameter blanked out."""
    if not text:
        return text
    for value in secret_values():
        text = text.replace(value, REDACTED)
    return KEY_PARAMETER.sub(rf"\1={REDACTED}", text)
