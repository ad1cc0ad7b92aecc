"""Connections: idle authenticated websockets held by one server process, and their memory.

One uvicorn process serves Skywatch as `make run` does (per-message deflate off) with the
Redis channel layer; clients in another process open sockets with a session cookie, as a
browser does, and each waits for its snapshot. The server's resident memory is read before
(after one warm-up socket) and after. The baseline is the same number of sockets held by a
bare websocket ASGI app under the same uvicorn, with per-message deflate off and on.
Connecting stops when the time allowed runs out: the figure says how far the box got.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import world
from bench.clients import Client, ClientPool
from bench.common import ROOT, server_env, start_uvicorn
from tests.support.servers import free_port, process_stop, wait_for_port

TITLE = "Connections: idle authenticated sockets held by one server process"
USERS, CITIES, PER_USER = 10_000, 10_000, 15
# Each user follows three regions of five neighbouring cities (bench/fanout.py explains why).
REGION = 5
TARGET = 10_000
CHUNK = 500
# Connecting stops when this is spent (a loaded 2-core box connects a few hundred a second).
CONNECT_SECONDS = 150.0
SETTLE_SECONDS = 2.0
# The reconnect storm: how long the dashboards get to come back after the server restarts.
STORM_SECONDS, STORM_GOAL_SECONDS = 120.0, 60.0


async def bare_app(scope, receive, send) -> None:
    """The least an ASGI websocket server can hold: accept, say hello, wait for the close."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": f"{message['type']}.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": '{"type": "snapshot", "subscriptions": []}'})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def rss_kib(pid: int) -> int:
    """Resident memory of a process, in KiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Live:
    """A Skywatch server with clients connected, kept for the fan-out benchmark."""

    server: object
    port: int
    pool: ClientPool
    world: world.World
    connected: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/weather/"

    def close(self) -> None:
        self.pool.close()
        process_stop(self.server)


def clients_for(built: world.World) -> list[Client]:
    """Every user's browser, in a fixed random order: who is online is spread over the ids."""
    users = list(built.users)
    random.Random(7).shuffle(users)
    return [Client(user=u, session=built.sessions[u]) for u in users]


def connect_until(
    pool: ClientPool, url: str, clients: list[Client], *, seconds: float, compression=None
) -> dict:
    """Connect the clients chunk by chunk until all are in or the time is spent."""
    started = time.monotonic()
    connected, failed, errors = 0, 0, []
    for start in range(0, len(clients), CHUNK):
        if time.monotonic() - started > seconds:
            break
        result = pool.connect(url, clients[start : start + CHUNK], compression=compression)
        connected += result["connected"]
        failed += result["failed"]
        errors += result["errors"]
        if result["failed"] > result["connected"]:
            break  # the box holds no more
    return {
        "connected": connected,
        "failed": failed,
        "seconds": time.monotonic() - started,
        "errors": errors[:3],
    }


def measure(server, port: int, pool: ClientPool, clients: list[Client], *, compression, seconds):
    """Server memory before and after connecting `clients` (after one warm-up socket)."""
    url = f"ws://127.0.0.1:{port}/ws/weather/"
    warm = pool.connect(url, clients[:1], compression=compression)
    if warm["connected"] != 1:
        raise RuntimeError(f"the warm-up socket failed: {warm['errors']}")
    time.sleep(SETTLE_SECONDS)
    before = rss_kib(server.pid)
    result = connect_until(pool, url, clients[1:], seconds=seconds, compression=compression)
    time.sleep(SETTLE_SECONDS)
    after = rss_kib(server.pid)
    held = pool.open_sockets()
    sockets = max(1, held - 1)
    return {
        "sockets": held,
        "failed": result["failed"],
        "errors": result["errors"],
        "connect_seconds": result["seconds"],
        "connects_per_second": result["connected"] / result["seconds"] if result["seconds"] else 0,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_socket": (after - before) / sockets,
    }


def reconnect_storm(live: Live, *, log: Path) -> dict:
    """Restart the web server under every open dashboard; each comes back as live.js does
    (equal jitter under a ceiling doubling from 1 s), snapshot included. Seconds from the
    restart's start until each socket had its snapshot again."""
    held = live.pool.open_sockets()
    live.pool.storm(live.url)
    restarted = time.time()
    process_stop(live.server, timeout=60)
    live.server = start_uvicorn(live.port, server_env(), log=log)
    serving = time.time() - restarted
    deadline = time.monotonic() + STORM_SECONDS
    while True:
        back = live.pool.back()
        if len(back["back"]) >= held or time.monotonic() > deadline:
            break
        time.sleep(1)
    live.pool.storm(None)
    times = sorted(at - restarted for at in back["back"])
    quantile = lambda q: times[min(len(times) - 1, int(q * len(times)))] if times else None  # noqa: E731
    return {
        "sockets": held,
        "back": len(times),
        "lost": held - len(times),
        "restart_seconds": serving,
        "all_back_seconds": times[-1] if times and len(times) >= held else None,
        "p50_seconds": quantile(0.5),
        "p99_seconds": quantile(0.99),
        "attempts": back["attempts"],
        "connects_per_second": len(times) / (times[-1] - serving)
        if times and times[-1] > serving
        else 0,
    }


def start_bare(port: int, *, deflate: bool, log: Path):
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "bench.connections:bare_app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            *("--no-access-log", "--ws-per-message-deflate", "true" if deflate else "false"),
        ],
        cwd=ROOT,
        env=server_env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return process


def run(*, log_dir: Path, ports: list[int], keep: bool = False) -> dict:
    """Skywatch first (as far as time allows), then the bare app with as many sockets."""
    built = world.build(users=USERS, cities=CITIES, per_user=PER_USER, run=REGION, sessions=True)
    port = ports[0] if ports else free_port()
    clients = clients_for(built)[:TARGET]
    results: dict = {"target": TARGET, "runs": {}}
    server = start_uvicorn(port, server_env(), log=log_dir / "connections_server.log")
    pool = ClientPool()
    live = Live(server=server, port=port, pool=pool, world=built)
    try:
        results["runs"]["skywatch"] = measure(
            server, port, pool, clients, compression=None, seconds=CONNECT_SECONDS
        )
        live.connected = [c.user for c in clients[: results["runs"]["skywatch"]["sockets"]]]
        count = results["runs"]["skywatch"]["sockets"]
        results["storm"] = reconnect_storm(live, log=log_dir / "connections_server.log")
        for deflate in (False, True):
            bare_port = ports[1] if len(ports) > 1 else free_port()
            bare = start_bare(bare_port, deflate=deflate, log=log_dir / "bare_ws.log")
            bare_pool = ClientPool()
            try:
                results["runs"][f"bare_deflate_{'on' if deflate else 'off'}"] = measure(
                    bare,
                    bare_port,
                    bare_pool,
                    [Client(user=n) for n in range(count)],
                    compression="deflate" if deflate else None,
                    seconds=CONNECT_SECONDS,
                )
            finally:
                bare_pool.close()
                process_stop(bare)
    except BaseException:
        live.close()
        raise
    if keep:
        results["live"] = live
    else:
        live.close()
    return results


def storm_line(results: dict) -> str | None:
    storm = results.get("storm")
    if not storm:
        return None
    every = storm["all_back_seconds"]
    return (
        f"Reconnect storm: web server restarted under {storm['sockets']:,} dashboards (up again "
        f"after {storm['restart_seconds']:.1f} s); {storm['back']:,} back with their snapshot, "
        f"{storm['lost']:,} not; p50 {storm['p50_seconds'] or 0:.1f} s, p99 "
        f"{storm['p99_seconds'] or 0:.1f} s, all "
        + (f"{every:.1f} s" if every is not None else f"not within {STORM_SECONDS:.0f} s")
        + f"; {storm['attempts']:,} attempts, {storm['connects_per_second']:.0f} connects/s"
    )


def table(results: dict) -> tuple[list[str], list[list]]:
    runs = results["runs"]
    base = runs.get("bare_deflate_off")
    labels = {
        "skywatch": "Skywatch (session cookie, snapshot), deflate off",
        "bare_deflate_off": "bare ASGI websocket app, deflate off (baseline)",
        "bare_deflate_on": "bare ASGI websocket app, deflate on",
    }
    columns = ["server", "sockets", "failed", "connects/s", "RSS MiB", "KiB/socket", "vs bare"]
    rows = []
    for key, label in labels.items():
        run = runs.get(key)
        if run is None:
            continue
        ratio = run["kib_per_socket"] / base["kib_per_socket"] if base else None
        rows.append(
            [
                label,
                run["sockets"],
                run["failed"],
                run["connects_per_second"],
                f"{run['rss_before_mib']:.0f} → {run['rss_after_mib']:.0f}",
                run["kib_per_socket"],
                f"{ratio:.2f}x" if ratio else "-",
            ]
        )
    return columns, rows
