"""A websocket client that behaves like static/js/live.js: reconnects with backoff, keeps all."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

BASE_DELAY = 0.5  # live.js waits 0.5-1 s before the first retry, doubling up to 15-30 s
MAX_DELAY = 5.0


@dataclass
class Frame:
    at: float
    connection: int  # which connection of this client it came on (1 = the first)
    data: dict


@dataclass
class LiveClient:
    """One open tab: a session cookie, or a token sent as the first message (a script)."""

    url: str
    cookie: str | None = None
    token: str | None = None
    origin: str | None = None
    frames: list[Frame] = field(default_factory=list)
    connections: int = 0
    closes: list[tuple[float, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socket: ClientConnection | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LiveClient:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        socket = self._socket
        if socket is not None:
            socket.close()
        self._thread.join(timeout=10)

    def of_type(self, kind: str, *, since: float = 0.0) -> list[Frame]:
        with self._lock:
            return [f for f in self.frames if f.data.get("type") == kind and f.at >= since]

    def latest_snapshot(self) -> dict | None:
        snapshots = self.of_type("snapshot")
        return snapshots[-1].data if snapshots else None

    def _run(self) -> None:
        attempts = 0
        while not self._stop.is_set():
            headers = {}
            if self.cookie:
                headers["Cookie"] = self.cookie
            if self.origin:
                headers["Origin"] = self.origin
            try:
                with connect(
                    self.url, additional_headers=headers, open_timeout=5, close_timeout=2
                ) as socket:
                    self._socket = socket
                    with self._lock:
                        self.connections += 1
                        number = self.connections
                    if self.token:
                        socket.send(json.dumps({"type": "auth", "token": self.token}))
                    for message in socket:
                        data = json.loads(message)
                        if data.get("type") == "snapshot":
                            attempts = 0
                        with self._lock:
                            self.frames.append(Frame(time.monotonic(), number, data))
                code = socket.close_code
            except (OSError, WebSocketException, TimeoutError):
                code = None
            self._socket = None
            with self._lock:
                self.closes.append((time.monotonic(), code))
            ceiling = min(MAX_DELAY, BASE_DELAY * 2**attempts)
            attempts += 1
            self._stop.wait(ceiling / 2 + random.random() * ceiling / 2)  # equal jitter
