"""Providers for pipeline tests: one counting calls in process, one over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from limits import parse_many

from weather_provider.base import Location, Place, ProviderError, Reading, WeatherProvider
from weather_provider.random import RandomProvider

LOOPBACK_URL_ENV = "SKYWATCH_TEST_PROVIDER_URL"


def reading_at(observed_at: dt.datetime, *, temperature: float = 10.0) -> Reading:
    return Reading(
        observed_at=observed_at,
        temperature=temperature,
        feels_like=temperature - 1,
        humidity=70,
        clouds=40,
        wind_speed=3.0,
        wind_direction=180,
        precipitation_probability=10,
        pressure=1013.0,
        condition="Partly cloudy",
        icon="partly-cloudy",
    )


@dataclass
class Call:
    at: float
    ids: list
    weight: int


@dataclass
class WindowCounter:
    """What a provider does on its side: sliding windows over received calls; 429 when over."""

    budget: str
    calls: list[Call] = field(default_factory=list)
    refused: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, ids: list, weight: int) -> float | None:
        """Record a call; the seconds to wait when it breaks a window (a 429), else None."""
        with self.lock:
            now = time.monotonic()
            call = Call(now, ids, weight)
            for window in parse_many(self.budget) if self.budget else []:
                seconds = window.get_expiry()
                used = sum(c.weight for c in self.calls if c.at > now - seconds)
                if used + weight > window.amount:
                    self.refused.append(call)
                    return float(seconds)
            self.calls.append(call)
            return None

    @property
    def cities(self) -> list:
        return [city_id for call in self.calls for city_id in call.ids]


class CountingProvider(WeatherProvider):
    """Geocodes like `random`; reads count every call, can fail on cue, and enforce a budget."""

    name = "counting"
    label = "Counting"
    batch_size = 100
    rate_limit = "6000/minute"
    weight_per_location = False

    def __init__(self) -> None:
        self.places = RandomProvider(seed=1)
        self.counter = WindowCounter(budget="")
        self.failures: list[BaseException] = []
        self.missing: set = set()
        self.observed_at: dt.datetime | None = None
        self.delay = 0.0

    @property
    def calls(self) -> list[Call]:
        return self.counter.calls

    def search(self, query: str, *, limit: int = 10) -> list[Place]:
        return self.places.search(query, limit=limit)

    def lookup(self, key: str) -> Place:
        return self.places.lookup(key)

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        ids = [location.id for location in locations]
        wait = self.counter.receive(ids, self.call_weight(locations))
        if wait is not None:
            raise ProviderError("Too many requests (HTTP 429).", retry_after=wait)
        if self.delay:
            time.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        observed_at = self.observed_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        return {i: reading_at(observed_at) for i in ids if i not in self.missing}


class LoopbackProvider(CountingProvider):
    """Reads over HTTP from a `LoopbackWeather` server, so several processes share one counter."""

    name = "loopback"
    batch_size = 1

    def current(self, locations: Sequence[Location]) -> dict[int | str, Reading]:
        body = {"ids": [location.id for location in locations], "pid": os.getpid()}
        response = requests.post(os.environ[LOOPBACK_URL_ENV], json=body, timeout=5)
        if response.status_code == 429:
            retry_after = float(response.headers["Retry-After"])
            raise ProviderError("Too many requests (HTTP 429).", retry_after=retry_after)
        observed_at = dt.datetime.fromisoformat(response.json()["observed_at"])
        return {i: reading_at(observed_at) for i in body["ids"]}


class LoopbackWeather:
    """A tiny weather API on 127.0.0.1 that counts calls per window and answers 429 when over."""

    def __init__(self, *, port: int, budget: str) -> None:
        self.counter = WindowCounter(budget=budget)
        self.pids: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                wait = outer.counter.receive(body["ids"], 1)
                if wait is None:
                    outer.pids.append(body["pid"])
                    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
                    payload, status = json.dumps({"observed_at": now.isoformat()}), 200
                else:
                    payload, status = json.dumps({"error": "too many requests"}), 429
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", str(wait or 0))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/current"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackWeather:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
