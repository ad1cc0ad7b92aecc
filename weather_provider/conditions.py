"""WMO weather interpretation codes (as Open-Meteo reports them) to condition text and icon."""

from __future__ import annotations

# Icon names are the dashboard's own vocabulary; every provider maps onto them.
WMO_CODES: dict[int, tuple[str, str]] = {
    0: ("Clear sky", "clear"),
    1: ("Mainly clear", "clear"),
    2: ("Partly cloudy", "partly-cloudy"),
    3: ("Overcast", "cloudy"),
    45: ("Fog", "fog"),
    48: ("Depositing rime fog", "fog"),
    51: ("Light drizzle", "drizzle"),
    53: ("Drizzle", "drizzle"),
    55: ("Dense drizzle", "drizzle"),
    56: ("Light freezing drizzle", "drizzle"),
    57: ("Freezing drizzle", "drizzle"),
    61: ("Light rain", "rain"),
    63: ("Rain", "rain"),
    65: ("Heavy rain", "rain"),
    66: ("Light freezing rain", "rain"),
    67: ("Freezing rain", "rain"),
    71: ("Light snow", "snow"),
    73: ("Snow", "snow"),
    75: ("Heavy snow", "snow"),
    77: ("Snow grains", "snow"),
    80: ("Light rain showers", "rain"),
    81: ("Rain showers", "rain"),
    82: ("Violent rain showers", "rain"),
    85: ("Light snow showers", "snow"),
    86: ("Snow showers", "snow"),
    95: ("Thunderstorm", "thunderstorm"),
    96: ("Thunderstorm with light hail", "thunderstorm"),
    99: ("Thunderstorm with heavy hail", "thunderstorm"),
}

# From the mildest to the most severe: a forecast day shows its most severe hour.
ICONS = ("clear", "partly-cloudy", "cloudy", "fog", "drizzle", "rain", "snow", "thunderstorm")


def describe_wmo(code: int | None) -> tuple[str, str]:
    """Condition text and icon for a WMO code; unknown codes read as "Unknown"."""
    if code is None:
        return ("Unknown", "cloudy")
    return WMO_CODES.get(int(code), ("Unknown", "cloudy"))
