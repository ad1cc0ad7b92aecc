"""What a fake Open-Meteo answers for the hourly and daily variables a request names (shared by
the resilience tests' fake and the benchmark's)."""

from __future__ import annotations


def series(names: str, times: list[int], seed: int) -> dict:
    """Plausible values for each variable asked, one per time (unix seconds, UTC)."""
    values: dict = {"time": times}
    for n, name in enumerate(filter(None, names.split(","))):
        if name in ("sunrise", "sunset"):
            values[name] = [t + (7 if name == "sunrise" else 17) * 3600 for t in times]
        elif name == "weather_code":
            values[name] = [(0, 2, 3, 61)[(seed + i) % 4] for i in range(len(times))]
        else:
            values[name] = [round((seed + n * 13 + i) % 30 / 2, 1) for i in range(len(times))]
    return values


def forecast_sections(query: dict[str, list[str]], *, now: int, seed: int) -> dict:
    """The `hourly` and `daily` sections a request asks for (`forecast_hours`, `forecast_days`)."""
    hour, day = now - now % 3600, now - now % 86400
    hours = [hour + 3600 * n for n in range(int(query.get("forecast_hours", ["1"])[0]))]
    days = [day + 86400 * n for n in range(int(query.get("forecast_days", ["1"])[0]))]
    sections = {}
    if query.get("hourly"):
        sections["hourly"] = series(query["hourly"][0], hours, seed)
    if query.get("daily"):
        sections["daily"] = series(query["daily"][0], days, seed)
    return sections
