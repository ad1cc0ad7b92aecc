"""What each measure is called, its unit, and its value in the user's units (the one converter).

Values are stored metric (°C, m/s, %); imperial shows °F and mph. Pages get labels and units
from here through `json_script`, so no script keeps a copy.
"""

from __future__ import annotations

METRIC = "metric"
IMPERIAL = "imperial"
MS_TO_MPH = 2.236936

LABELS = {
    "temperature": "Temperature",
    "feels_like": "Feels like",
    "humidity": "Humidity",
    "clouds": "Clouds",
    "precipitation_probability": "Chance of rain",
    "wind_speed": "Wind speed",
}
_TEMPERATURES = ("temperature", "feels_like")
_SPEEDS = ("wind_speed",)


def celsius_to_fahrenheit(value: float) -> float:
    return value * 9 / 5 + 32


def metres_per_second_to_mph(speed: float) -> float:
    return speed * MS_TO_MPH


def in_units(metric: str, value: float | None, units: str, *, digits: int | None = 1):
    """`value` of `metric` (stored metric) in `units`, rounded to `digits` (None: unrounded)."""
    if value is None:
        return None
    if units == IMPERIAL:
        if metric in _TEMPERATURES:
            value = celsius_to_fahrenheit(value)
        elif metric in _SPEEDS:
            value = metres_per_second_to_mph(value)
    return value if digits is None else round(value, digits)


def unit_of(metric: str, units: str) -> str:
    if metric in _TEMPERATURES:
        return "°F" if units == IMPERIAL else "°C"
    if metric in _SPEEDS:
        return "mph" if units == IMPERIAL else "m/s"
    return "%"


def units_as_dict(units: str) -> dict:
    """Labels and unit of every measure, for a page's scripts (json_script)."""
    return {
        "units": units,
        "labels": LABELS,
        "unit_of": {metric: unit_of(metric, units) for metric in LABELS},
    }
