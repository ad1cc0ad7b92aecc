"""A fake Open-Meteo on loopback: the forecast API's shape under a weighted budget, 429 beyond it.

Run as its own process (`python -m uvicorn bench.fake_provider:app`), so that neither the
pipeline under test nor the naive client shares its interpreter. The budget comes from
BENCH_FAKE_BUDGET in the `limits` notation ("1000/second;10000/minute"); every location in a
call counts, weighed as Open-Meteo weighs it (more than 10 variables or 14 days cost more). A
call that would overfill any window is refused with 429 and does not count. GET /stats returns
every accepted and refused call, and the wall-clock arrival (time.time(), the clock `limits`
stamps budget with on this machine) of every call in order; POST /reset forgets them.
`LoopbackOpenMeteo` is the real Open-Meteo provider pointed at this server.
"""

from __future__ import annotations

import collections
import json
import math
import os
import time
from urllib.parse import parse_qs

from limits import parse_many

from tests.support.open_meteo import forecast_sections
from weather_provider.open_meteo import OpenMeteoProvider
from weather_provider.open_meteo_answers import query_weight, request_variables

URL_ENV = "BENCH_PROVIDER_URL"
BUDGET_ENV = "BENCH_FAKE_BUDGET"


class LoopbackOpenMeteo(OpenMeteoProvider):
    """Skywatch's Open-Meteo provider, unchanged, reading from the fake at BENCH_PROVIDER_URL."""

    def __init__(self, **kwargs) -> None:
        base = os.environ[URL_ENV].rstrip("/")
        super().__init__(
            api_key="", forecast_url=f"{base}/v1/forecast", geocoding_url=f"{base}/v1", **kwargs
        )


class Window:
    """One sliding window of the fake's budget, with a running sum of what it holds."""

    def __init__(self, *, label: str, seconds: float, limit: int) -> None:
        self.label, self.seconds, self.limit = label, seconds, limit
        self.calls: collections.deque[tuple[float, int]] = collections.deque()
        self.used = 0

    def expire(self, now: float) -> None:
        while self.calls and self.calls[0][0] <= now - self.seconds:
            self.used -= self.calls.popleft()[1]

    def wait(self, now: float, weight: int) -> float:
        """Seconds until `weight` fits, 0 when it fits now."""
        self.expire(now)
        excess = self.used + weight - self.limit
        if excess <= 0:
            return 0.0
        for at, taken in self.calls:
            excess -= taken
            if excess <= 0:
                return at + self.seconds - now
        return self.seconds


class Budget:
    """The provider's side of the budget: what it accepted and refused, and which windows broke."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.windows = [
            Window(label=str(item), seconds=item.get_expiry(), limit=item.amount)
            for item in (parse_many(text) if text else [])
        ]
        self.accepted: list[tuple[float, int]] = []
        self.refused: list[tuple[float, int, str]] = []
        self.arrived: list[float] = []

    def take(self, weight: int) -> float:
        """Record a call; 0 when served, else the seconds until it would fit (a 429)."""
        now = time.monotonic()
        self.arrived.append(time.time())
        waits = [(window.wait(now, weight), window) for window in self.windows]
        broken = [(wait, window) for wait, window in waits if wait > 0]
        if broken:
            wait, window = max(broken, key=lambda pair: pair[0])
            self.refused.append((now, weight, window.label))
            return wait
        for window in self.windows:
            window.calls.append((now, weight))
            window.used += weight
        self.accepted.append((now, weight))
        return 0.0

    def stats(self) -> dict:
        return {
            "budget": self.text,
            "windows": [
                {"label": w.label, "seconds": w.seconds, "limit": w.limit} for w in self.windows
            ],
            "accepted": self.accepted,
            "refused": self.refused,
            "arrived": self.arrived,
        }


budget = Budget(os.environ.get(BUDGET_ENV, ""))


def call_weight(query: dict[str, list[str]]) -> float:
    """What Open-Meteo counts for this request (fractions kept, as its server does)."""
    params = {name: values[0] for name, values in query.items()}
    locations = len(params.get("latitude", "").split(","))
    days = int(params.get("forecast_days", "7"))
    return float(query_weight(locations=locations, variables=request_variables(params), days=days))


def forecast(query: dict[str, list[str]], now: int) -> list[dict]:
    """Open-Meteo's answer for several coordinates: a list in the order asked, with the hours and
    days asked for (UTC)."""
    latitudes = query.get("latitude", [""])[0].split(",")
    longitudes = query.get("longitude", [""])[0].split(",")
    items = []
    for index, (latitude, longitude) in enumerate(zip(latitudes, longitudes, strict=False)):
        seed = (index * 7919 + now) % 100
        item = {
            "latitude": float(latitude),
            "longitude": float(longitude),
            "location_id": index,
            "utc_offset_seconds": 0,
            "timezone": "GMT",
        }
        item.update(forecast_sections(query, now=now, seed=seed))
        if query.get("current"):
            item["current"] = {
                "time": now,
                "interval": 900,
                "temperature_2m": round(5 + seed / 10, 1),
                "relative_humidity_2m": 40 + seed % 50,
                "apparent_temperature": round(3 + seed / 10, 1),
                "cloud_cover": seed,
                "wind_speed_10m": round(seed / 20, 2),
                "wind_direction_10m": (seed * 37) % 360,
                "pressure_msl": 1000 + seed % 30,
                "weather_code": (0, 2, 3, 61)[seed % 4],
            }
        items.append(item)
    return items


async def respond(send, status: int, body: bytes, headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send) -> None:
    """The fake's whole HTTP API."""
    global budget
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": f"{message['type']}.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/v1/forecast":
        query = parse_qs(scope["query_string"].decode())
        wait = budget.take(call_weight(query))
        if wait > 0:
            body = {"error": True, "reason": "Minutely API request limit exceeded."}
            retry_after = str(max(1, math.ceil(wait))).encode()
            await respond(send, 429, json.dumps(body).encode(), [(b"retry-after", retry_after)])
            return
        await respond(send, 200, json.dumps(forecast(query, int(time.time()))).encode())
    elif path == "/stats":
        await respond(send, 200, json.dumps(budget.stats()).encode())
    elif path == "/reset":
        budget = Budget(budget.text)
        await respond(send, 200, b"{}")
    else:
        await respond(send, 404, b'{"error": true, "reason": "Not found"}')
