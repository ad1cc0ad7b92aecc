"""Samples of what Skywatch sends, exactly as CONTRACT.md shows them."""

from __future__ import annotations

# The contract's example reading (metric), as the API and the websocket carry it.
SAMPLE_READING = {
    "observed_at": "2026-11-23T10:00:00Z",
    "temperature": 7.4,
    "feels_like": 5.1,
    "humidity": 81,
    "clouds": 75,
    "wind_speed": 4.2,
    "wind_direction": 250,
    "precipitation_probability": 40,
    "pressure": 1012,
    "condition": "Light rain",
    "icon": "rain",
    "units": "metric",
    "provider": "open-meteo",
    "stale": False,
}
