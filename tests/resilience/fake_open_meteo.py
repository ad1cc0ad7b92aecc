"""A fake Open-Meteo forecast API on loopback with switchable faults, and the provider that uses it.

The provider is the real `OpenMeteoProvider` (its HTTP session, status handling and JSON
parsing) pointed at the fake's URL, so every fault goes through the code production runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.support.open_meteo import forecast_sections
from weather_provider.open_meteo import OpenMeteoProvider

URL_ENV = "SKYWATCH_FAKE_OPEN_METEO_URL"
BATCH_ENV = "SKYWATCH_FAKE_OPEN_METEO_BATCH"
READ_TIMEOUT_ENV = "SKYWATCH_FAKE_OPEN_METEO_READ_TIMEOUT"
PROVIDER_NAME = "fake-open-meteo"
# The provider gives up on a call after this long; the fake's "timeout" holds answers longer.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.5

HEALTHY = "healthy"
SLOW = "slow"
TIMEOUT = "timeout"
ERROR_500 = "error_500"
RATE_LIMITED = "rate_limited"
MALFORMED = "malformed"
FAULTS = (TIMEOUT, ERROR_500, RATE_LIMITED, MALFORMED)


class LoopbackOpenMeteo(OpenMeteoProvider):
    """Open-Meteo as production reads it, at the fake's address, with short timeouts."""

    name = PROVIDER_NAME

    def __init__(self) -> None:
        super().__init__(
            api_key="",
            forecast_url=os.environ[URL_ENV],
            timeout=(CONNECT_TIMEOUT, float(os.environ.get(READ_TIMEOUT_ENV, READ_TIMEOUT))),
        )
        self.batch_size = int(os.environ.get(BATCH_ENV, self.batch_size))


@dataclass
class Call:
    """One forecast request the fake received, and how it answered."""

    received_at: float
    coordinates: list[tuple[float, float]]
    mode: str
    answered_at: float | None = None
    status: int | None = None


def current_slot() -> int:
    """Unix time of the current 15-minute step, as Open-Meteo reports `current.time`."""
    now = int(time.time())
    return now - now % 900


def forecast_item(
    latitude: float, longitude: float, *, at: int, temperature: float, query: dict | None = None
) -> dict:
    """One location's answer, shaped like the recordings in tests/weather_provider, with the
    forecast's hours and days when the request asks for them."""
    item = {
        "latitude": latitude,
        "longitude": longitude,
        "generationtime_ms": 0.1,
        "utc_offset_seconds": 0,
        "timezone": "GMT",
        "timezone_abbreviation": "GMT",
        "elevation": 40.0,
        "current": {
            "time": at,
            "interval": 900,
            "temperature_2m": temperature,
            "relative_humidity_2m": 81,
            "apparent_temperature": temperature - 2.3,
            "cloud_cover": 75,
            "wind_speed_10m": 4.23,
            "wind_direction_10m": 250,
            "pressure_msl": 1012.4,
            "weather_code": 61,
        },
        "hourly": {"time": [at - at % 3600], "precipitation_probability": [40]},
    }
    if query and query.get("daily"):
        item.update(forecast_sections(query, now=at, seed=int(temperature)))
    return item


class FakeOpenMeteo:
    """`GET /v1/forecast` on 127.0.0.1: healthy, slow, or failing the way the real one can."""

    def __init__(self, *, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1/forecast"
        self.mode = HEALTHY
        self.delay = 0.0  # seconds a SLOW answer takes
        self.retry_after = 1  # what a RATE_LIMITED answer asks for
        self.observed_at: int | None = None  # `current.time`; the current 15-minute step if None
        self.temperature = 7.4
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.released = threading.Event()  # set on shutdown, so held answers let go
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenMeteo:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def set(self, mode: str, **options) -> None:
        with self.lock:
            self.mode = mode
            for name, value in options.items():
                setattr(self, name, value)

    def calls_since(self, moment: float) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.received_at >= moment]

    def answered(self) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.answered_at is not None]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                latitudes = [float(v) for v in query.get("latitude", [""])[0].split(",") if v]
                longitudes = [float(v) for v in query.get("longitude", [""])[0].split(",") if v]
                coordinates = list(zip(latitudes, longitudes, strict=True))
                with fake.lock:
                    call = Call(time.monotonic(), coordinates, fake.mode)
                    fake.calls.append(call)
                    delay, retry_after = fake.delay, fake.retry_after
                    at = fake.observed_at or current_slot()
                    temperature = fake.temperature
                if call.mode == TIMEOUT:
                    # Longer than the provider waits; then the connection is dropped unanswered.
                    fake.released.wait(READ_TIMEOUT * 3)
                    self.close_connection = True
                    return
                if call.mode == SLOW:
                    fake.released.wait(delay)
                if call.mode == ERROR_500:
                    self._answer(call, 500, b"<html><body>Internal Server Error</body></html>")
                elif call.mode == RATE_LIMITED:
                    reason = "Minutely API request limit exceeded. Please try again in one minute."
                    body = json.dumps({"error": True, "reason": reason}).encode()
                    self._answer(call, 429, body, {"Retry-After": str(retry_after)})
                elif call.mode == MALFORMED:
                    self._answer(call, 200, b'{"latitude": 48.86, "current": {"time": 17954')
                else:
                    items = [
                        forecast_item(lat, lon, at=at, temperature=temperature, query=query)
                        for lat, lon in coordinates
                    ]
                    payload = items[0] if len(items) == 1 else items
                    self._answer(call, 200, json.dumps(payload).encode())

            def _answer(self, call: Call, status: int, body: bytes, headers=None) -> None:
                self.send_response(status)
                content_type = "text/html" if status == 500 else "application/json"
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller gave up or was killed meanwhile
                    self.close_connection = True
                    return
                with fake.lock:
                    call.answered_at = time.monotonic()
                    call.status = status

            def log_message(self, *args) -> None:
                pass

        return Handler


def observed(at: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC)
