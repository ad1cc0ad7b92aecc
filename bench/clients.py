"""Many websocket clients in a process of their own, recording when each frame arrives.

The clients live apart from the benchmark that drives the server (and publishes), so that
neither one's work delays the other's clock. The parent talks to them through a pipe:
`connect` opens sockets (session cookie or first-message token, like a browser or a
script), waits for each one's snapshot, and `frames` returns every `weather` frame received
since the last call as (user id, arrival time, city ids).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import multiprocessing
import random
import resource
import time
from dataclasses import dataclass

# static/js/live.js: the first retry after 0.5-1 s, the ceiling doubling up to 15-30 s.
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 1.0, 30.0


@dataclass(frozen=True)
class Client:
    """One socket to open: whose it is, its session cookie or its token."""

    user: int
    session: str = ""
    token: str = ""


def raise_open_files() -> int:
    """Lift this process's open-file limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class ClientPool:
    """The parent's handle on the client process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_main, args=(child,), daemon=True)
        self.process.start()

    def _call(self, *command, timeout: float = 600):
        self.conn.send(command)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"the client process did not answer {command[0]!r} in {timeout} s")
        answer = self.conn.recv()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def connect(
        self,
        url: str,
        clients: list[Client],
        *,
        compression: str | None = None,
        concurrency: int = 64,
        timeout: float = 600,
    ) -> dict:
        """Open a socket per client and wait for its snapshot: connected, failed, seconds."""
        return self._call("connect", url, clients, compression, concurrency, timeout=timeout)

    def count(self) -> int:
        """How many `weather` frames arrived since the last `frames`."""
        return self._call("count")

    def frames(self) -> list[tuple[int, float, list[int]]]:
        """Every `weather` frame since the last call: (user, arrival time, city ids)."""
        return self._call("frames")

    def open_sockets(self) -> int:
        return self._call("open")

    def storm(self, url: str, *, compression: str | None = None) -> None:
        """From now on, a socket the server drops reconnects the way the dashboard does."""
        self._call("storm", url, compression)

    def back(self) -> dict:
        """Since `storm`: when each dropped socket got its snapshot again, and attempts made."""
        return self._call("back")

    def keep(self, count: int) -> list[int]:
        """Close every socket but the first `count` opened; returns the users still online."""
        return self._call("keep", count)

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(EOFError, OSError, TimeoutError):
                self._call("close", timeout=120)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _main(conn) -> None:
    raise_open_files()
    # 10,000 browsers in one process: a full collection of all their sockets' objects would
    # stop every one of them for a second at once (no browser's collector does that), and
    # would show as delivery latency. The process lives for one benchmark run.
    gc.disable()
    asyncio.run(_serve(conn))


async def _serve(conn) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    sockets: dict = {}
    tasks: set[asyncio.Task] = set()
    frames: list[tuple[int, float, list[int]]] = []

    # Set by `storm`: sockets the server drops come back as the dashboard's do (static/js/live.js).
    storm: dict = {"url": None, "compression": None, "back": [], "attempts": 0}

    async def hold(client: Client, ws) -> None:
        try:
            async for message in ws:
                arrived = time.time()
                data = json.loads(message)
                if data.get("type") == "weather":
                    frames.append((client.user, arrived, [u["city_id"] for u in data["updates"]]))
        except Exception:  # noqa: S110 - a dropped socket is counted by `open`, not raised
            pass
        finally:
            sockets.pop(id(ws), None)
        if storm["url"] is not None:
            await come_back(client)

    async def come_back(client: Client) -> None:
        """live.js' reconnect: equal jitter under a ceiling doubling from 1 s to 30 s."""
        attempts = 0
        while storm["url"] is not None:
            ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**attempts)
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)
            attempts += 1
            storm["attempts"] += 1
            try:
                await open_one(storm["url"], client, storm["compression"], None)
            except Exception:  # noqa: S112 - refused or timed out: back off and try again
                continue
            storm["back"].append(time.time())
            return

    async def open_one(url: str, client: Client, compression, gate) -> None:
        async with gate or contextlib.nullcontext():
            headers = {"Cookie": f"sessionid={client.session}"} if client.session else {}
            origin = url.replace("ws://", "http://").split("/ws/")[0]
            ws = await connect(
                url,
                additional_headers=headers,
                origin=origin if client.session else None,
                compression=compression,
                ping_interval=None,
                open_timeout=120,
                close_timeout=2,
                max_size=2**22,
            )
            try:
                if client.token:
                    await ws.send(json.dumps({"type": "auth", "token": client.token}))
                first = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if first.get("type") != "snapshot":
                    kind, said = first.get("type"), str(first)[:160]
                    raise RuntimeError(f"first frame was {kind!r}, not a snapshot: {said}")
            except BaseException:
                await ws.close()
                raise
        sockets[id(ws)] = (client.user, ws)
        task = asyncio.create_task(hold(client, ws))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        try:
            if command == "connect":
                url, clients, compression, concurrency = args
                gate = asyncio.Semaphore(concurrency)
                started = time.monotonic()
                results = await asyncio.gather(
                    *(open_one(url, client, compression, gate) for client in clients),
                    return_exceptions=True,
                )
                errors = collections.Counter(
                    f"{type(r).__name__}: {r}"[:120]
                    for r in results
                    if isinstance(r, BaseException)
                )
                conn.send(
                    {
                        "connected": len(results) - sum(errors.values()),
                        "failed": sum(errors.values()),
                        "seconds": time.monotonic() - started,
                        "errors": errors.most_common(3),
                    }
                )
            elif command == "count":
                conn.send(len(frames))
            elif command == "frames":
                taken, frames[:] = list(frames), []
                conn.send(taken)
            elif command == "open":
                conn.send(len(sockets))
            elif command == "storm":
                (url, compression) = args
                storm.update(url=url, compression=compression, back=[], attempts=0)
                conn.send(True)
            elif command == "back":
                conn.send({"back": list(storm["back"]), "attempts": storm["attempts"]})
            elif command == "keep":
                (count,) = args
                held = list(sockets.values())
                await asyncio.gather(
                    *(ws.close() for _, ws in held[count:]), return_exceptions=True
                )
                await asyncio.sleep(1)
                conn.send([user for user, _ in held[:count]])
            elif command == "close":
                storm["url"] = None
                gate = asyncio.Semaphore(256)

                async def close_one(ws, gate=gate) -> None:
                    async with gate:
                        await ws.close()

                await asyncio.gather(
                    *(close_one(ws) for _, ws in list(sockets.values())), return_exceptions=True
                )
                for task in list(tasks):
                    task.cancel()
                conn.send(True)
                return
        except Exception as exc:
            conn.send(exc)
