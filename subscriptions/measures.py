"""What each measure is called, its unit, and its value in the user's units (the one converter).

Values are stored metric (°C, m/s, mm, %); imperial shows °F, mph and inches. Pages get labels
and units from here through `json_script`, so no script keeps a copy.
"""

from __future__ import annotations

METRIC = "metric"
IMPERIAL = "imperial"
MS_TO_MPH = 2.236936
MM_PER_INCH = 25.4

LABELS = {
    "temperature": "Temperature",
    "feels_like": "Feels like",
    "humidity": "Humidity",
    "clouds": "Clouds",
    "precipitation_probability": "Chance of rain",
    "wind_speed": "Wind speed",
}
# Every measure an alert can watch, as a person reads it (the alert form's labels).
ALERT_LABELS = {
    "temperature": "Temperature",
    "feels_like": "Feels like",
    "wind_speed": "Wind speed",
    "wind_gusts": "Wind gusts",
    "precipitation_probability": "Chance of rain",
    "precipitation": "Precipitation",
    "humidity": "Humidity",
    "uv_index": "UV index",
}
_TEMPERATURES = ("temperature", "feels_like", "temperature_max", "temperature_min")
_SPEEDS = ("wind_speed", "wind_gusts", "wind_speed_max")
_AMOUNTS = ("precipitation", "precipitation_sum")


def celsius_to_fahrenheit(value: float) -> float:
    return value * 9 / 5 + 32


def metres_per_second_to_mph(speed: float) -> float:
    return speed * MS_TO_MPH


def in_units(metric: str, value: float | None, units: str, *, digits: int | None = 1):
    """`value` of `metric` (stored metric) in `units`, rounded to `digits` (None: unrounded);
    an amount of rain in inches keeps two digits, as a tenth of an inch is a lot of rain."""
    if value is None:
        return None
    if units == IMPERIAL:
        if metric in _TEMPERATURES:
            value = celsius_to_fahrenheit(value)
        elif metric in _SPEEDS:
            value = metres_per_second_to_mph(value)
        elif metric in _AMOUNTS:
            value = value / MM_PER_INCH
            digits = None if digits is None else digits + 1
    return value if digits is None else round(value, digits)


def unit_of(metric: str, units: str) -> str:
    if metric in _TEMPERATURES:
        return "°F" if units == IMPERIAL else "°C"
    if metric in _SPEEDS:
        return "mph" if units == IMPERIAL else "m/s"
    if metric in _AMOUNTS:
        return "in" if units == IMPERIAL else "mm"
    if metric == "uv_index":
        return ""
    return "%"


def alert_form_as_dict(units: str) -> dict:
    """Labels and units of what an alert can watch, for the city page's alert form."""
    return {
        "units": units,
        "labels": ALERT_LABELS,
        "unit_of": {metric: unit_of(metric, units) for metric in ALERT_LABELS},
    }


def units_as_dict(units: str) -> dict:
    """Labels and unit of every measure, for a page's scripts (json_script)."""
    return {
        "units": units,
        "labels": LABELS,
        "unit_of": {metric: unit_of(metric, units) for metric in LABELS},
    }


def from_units(metric: str, value: float, units: str) -> float:
    """`value` of `metric` typed in `units`, in the metric units it is stored in (unrounded)."""
    if units == IMPERIAL:
        if metric in _TEMPERATURES:
            return (value - 32) * 5 / 9
        if metric in _SPEEDS:
            return value / MS_TO_MPH
        if metric in _AMOUNTS:
            return value * MM_PER_INCH
    return value


# How far back past its threshold a value must come before an alert re-arms, per units.
_MARGINS = {
    METRIC: {"temperature": 1.0, "speed": 1.0, "amount": 0.5, "percent": 5.0, "uv": 1.0},
    IMPERIAL: {"temperature": 2.0, "speed": 2.0, "amount": 0.5, "percent": 5.0, "uv": 1.0},
}


def alert_margin(metric: str, units: str) -> float:
    """The re-arm margin of `metric` for someone using `units`, in metric (as values are stored):
    1 °C / 2 °F, 1 m/s / 2 mph, 0.5 mm, 5 percentage points, 1 UV."""
    margins = _MARGINS.get(units, _MARGINS[METRIC])
    if metric in _TEMPERATURES:
        # A difference of temperatures: °F to °C is a factor, not the offset.
        return margins["temperature"] * (5 / 9 if units == IMPERIAL else 1)
    if metric in _SPEEDS:
        return margins["speed"] / (MS_TO_MPH if units == IMPERIAL else 1)
    if metric in _AMOUNTS:
        return margins["amount"]
    if metric == "uv_index":
        return margins["uv"]
    return margins["percent"]
