"""Providers for pipeline tests: one counting calls in process, one over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from limits import parse_many

from weather_provider.base import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
    CurrentAndForecast,
    Forecast,
    Location,
    Place,
    ProviderError,
    Reading,
    WeatherProvider,
)
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
    lock: threading.RLock = field(default_factory=threading.RLock)

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
        # When set, every read waits here until as many reads are in flight as it has parties.
        self.rendezvous: threading.Barrier | None = None

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
        if self.rendezvous is not None:
            self.rendezvous.wait(timeout=60)
        if self.delay:
            time.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        observed_at = self.observed_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
        return {i: reading_at(observed_at) for i in ids if i not in self.missing}

    def forecast(self, locations: Sequence[Location]) -> dict[int | str, Forecast]:
        """Forecasts like `random`'s, counted and held to the budget like readings."""
        ids = [location.id for location in locations]
        wait = self.counter.receive(ids, self.call_weight(locations, kind=FORECAST))
        if wait is not None:
            raise ProviderError("Too many requests (HTTP 429).", retry_after=wait)
        return self.places.forecast(locations)


class CombinedProvider(CountingProvider):
    """Charges like Open-Meteo: a reading costs two, a forecast three, both in one call four (less
    than the five of two calls); `kinds` records what each call asked for."""

    name = "combined"
    weight_per_location = True

    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[str] = []

    def call_weight(self, locations: Sequence[Location], *, kind=CURRENT) -> int:
        return len(locations) * {CURRENT: 2, FORECAST: 3, CURRENT_AND_FORECAST: 4}[kind]

    def current(self, locations):
        self.kinds.append(CURRENT)
        return super().current(locations)

    def forecast(self, locations):
        self.kinds.append(FORECAST)
        return super().forecast(locations)

    def current_and_forecast(self, locations) -> CurrentAndForecast:
        self.kinds.append(CURRENT_AND_FORECAST)
        ids = [location.id for location in locations]
        self.counter.receive(ids, self.call_weight(locations, kind=CURRENT_AND_FORECAST))
        observed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        readings = {i: reading_at(observed_at) for i in ids}
        return CurrentAndForecast(readings, self.places.forecast(locations))


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
    """A tiny weather API on 127.0.0.1 that counts calls per window and answers 429 when over;
    it runs in its own process so that nothing in the test process delays what it sees."""

    def __init__(self, *, port: int, budget: str) -> None:
        self.port = port
        self.budget = budget
        self.url = f"http://127.0.0.1:{port}/current"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> LoopbackWeather:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.pipeline.fakes", str(self.port), self.budget],
            cwd=Path(__file__).resolve().parents[2],
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.stats()
                return self
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the loopback weather API did not start"
                time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def stats(self) -> dict:
        """{"calls": [[at, ids, pid]…], "refused": [[at, ids, pid]…]} so far."""
        return requests.get(self.url.replace("/current", "/stats"), timeout=5).json()


def serve(port: int, budget: str) -> None:
    counter = WindowCounter(budget=budget)
    pids: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with counter.lock:
                calls = [[c.at, c.ids, pid] for c, pid in zip(counter.calls, pids, strict=True)]
                refused = [[c.at, c.ids] for c in counter.refused]
            self.answer(200, {"calls": calls, "refused": refused})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with counter.lock:
                wait = counter.receive(body["ids"], 1)
                if wait is None:
                    pids.append(body["pid"])
            if wait is None:
                now = dt.datetime.now(dt.UTC).replace(microsecond=0)
                self.answer(200, {"observed_at": now.isoformat()})
            else:
                self.answer(429, {"error": "too many requests"}, retry_after=wait)

        def answer(self, status: int, payload: dict, retry_after: float = 0) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(json.dumps(payload).encode())

        def log_message(self, *args) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
