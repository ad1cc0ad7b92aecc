"""Fan-out: one refresh of every followed city, pushed to N open dashboards.

10,000 users follow 15 cities each (10,000 cities, 150,000 subscriptions), in three regions
of five neighbouring cities; neighbours are refreshed in the same batch, so a user hears
three or four messages a refresh, each with several cities. (Fifteen cities scattered over
the 100 batches make 14 messages a user, 140,000 a refresh: more than one server process
delivers while the refresh runs at database speed; the docs give that figure.) N of them have a
socket open to one uvicorn process on the Redis channel layer (clients in their own process,
authenticated by session cookie). This process runs one refresh of every followed city through
the real pipeline (the Open-Meteo provider reading a fake on loopback, no budget to wait for),
so each batch of 100 cities is stored, committed and published to its followers. Latency runs
from the moment a batch's readings are committed (the publish hook) to the arrival of the
frame at the client; each frame is matched to its batch by its cities.

The baseline replays the same messages with a bare `group_send` loop (the server's layer) to the
same groups, batch by batch at the same moments, without the database or serialisation.
"""

from __future__ import annotations

import asyncio
import collections
import os
import statistics
import time
from pathlib import Path

from bench import world
from bench.budget import (
    BUDGET,
    reset_shared_state,
    restore_provider,
    start_fake,
    use_fake_provider,
)
from bench.clients import ClientPool
from bench.common import server_env, start_uvicorn
from bench.connections import (
    CITIES,
    CONNECT_SECONDS,
    PER_USER,
    REGION,
    USERS,
    Live,
    clients_for,
    connect_until,
)
from tests.support.samples import SAMPLE_READING
from tests.support.servers import free_port, process_stop

TITLE = "Fan-out: one refresh of 10,000 cities to N open dashboards (15 cities each)"
LEVELS = (1000, 10_000)
GOAL_P99_MS = 500.0
DRAIN_QUIET_SECONDS = 5.0
# Before each measurement the server's CPU must fall under this share of a core (or time out).
SETTLE_CPU_SHARE, SETTLE_MAX_SECONDS = 0.25, 30.0
DRAIN_MAX_SECONDS = 90.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int, since: float, frames: int) -> float:
    """The server's CPU time per frame delivered since `since` (keep-alive pings included)."""
    return (cpu_seconds(pid) - since) / max(1, frames) * 1e6


def settle(pid: int) -> None:
    """Wait until the server is nearly idle (keep-alive pings aside): nothing queued from before."""
    deadline = time.monotonic() + SETTLE_MAX_SECONDS
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(pid)
        if now - last < SETTLE_CPU_SHARE:
            return
        last = now


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def drain(pool: ClientPool, expected: int) -> list:
    """Frames until `expected` arrived or nothing more came for a while."""
    frames: list = []
    deadline = time.monotonic() + DRAIN_MAX_SECONDS
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        new = pool.frames()
        if new:
            frames += new
            quiet_since = time.monotonic()
        elif len(frames) >= expected or time.monotonic() - quiet_since > DRAIN_QUIET_SECONDS:
            break
        time.sleep(0.2)
    return frames


def score(frames: list, batches: list[tuple[float, list[int]]], follows: dict, online: set):
    """Messages per user and batch, losses and latency from batch commit (or send) to frame."""
    batch_of = {city: index for index, (_, cities) in enumerate(batches) for city in cities}
    expected = set()
    for index, (_, cities) in enumerate(batches):
        members = set(cities)
        for user in online:
            if members.intersection(follows[user]):
                expected.add((user, index))
    per_pair: collections.Counter = collections.Counter()
    latencies, mixed = [], 0
    worst: dict[int, float] = {}
    for user, arrived, cities in frames:
        index = batch_of.get(cities[0]) if cities else None
        if index is None:
            continue
        if any(batch_of.get(city) != index for city in cities):
            mixed += 1
        per_pair[(user, index)] += 1
        latency = (arrived - batches[index][0]) * 1000
        latencies.append(latency)
        worst[index] = max(worst.get(index, 0.0), latency)
    received = set(per_pair)
    arrivals = [arrived for _, arrived, _ in frames]
    span = max(arrivals) - batches[0][0] if arrivals and batches else 0.0
    return {
        "frames_per_second": len(frames) / span if span > 0 else 0.0,
        "batches": len(batches),
        "frames": len(frames),
        "expected_messages": len(expected),
        "missing": len(expected - received),
        "unexpected": len(received - expected),
        "messages_per_user_batch": (
            sum(per_pair.values()) / len(per_pair) if per_pair else float("nan")
        ),
        "most_per_user_batch": max(per_pair.values(), default=0),
        "frames_mixing_batches": mixed,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "worst_batch_ms": [round(worst.get(i, 0.0)) for i in range(len(batches))],
    }


def skywatch_refresh(pool: ClientPool, follows: dict, online: set, provider, fake_url: str):
    """One refresh through the pipeline; returns its score and the batches as committed."""
    import subscriptions.events as events_module
    import subscriptions.refresh as refresh_module

    reset_shared_state(provider, fake_url)
    original = events_module.readings_publish
    batches: list[tuple[float, list[int]]] = []
    publish_seconds: list[float] = []
    sent: list[int] = []

    def recording(city_ids):
        ids = list(city_ids)
        committed = time.time()
        batches.append((committed, ids))
        users = original(ids)
        publish_seconds.append(time.time() - committed)
        sent.append(users)
        return users

    pool.frames()
    events_module.readings_publish = recording
    started = time.monotonic()
    try:
        summary = refresh_module.refresh_followed_cities(everything=True)
    finally:
        events_module.readings_publish = original
    seconds = time.monotonic() - started
    expected = sum(1 for user in online for _ in follows[user])  # an upper bound
    result = score(drain(pool, expected), batches, follows, online)
    result |= {
        "refresh_seconds": seconds,
        "stored": summary.stored,
        "messages_sent": sum(sent),
        "publish_ms_per_batch": statistics.mean(publish_seconds) * 1000 if publish_seconds else 0,
        "publish_us_per_message": sum(publish_seconds) / max(1, sum(sent)) * 1e6,
    }
    return result, batches


def bare_replay(pool: ClientPool, batches: list, follows_by_city: dict, follows: dict, online):
    """The baseline: the same groups get messages of the same shape at the same moments, from
    a bare `group_send` loop on the layer the server listens with."""
    from django.conf import settings

    from notifications.layers import UserGroupsLayer
    from skywatch.events import user_group, wire_event

    plan = []
    for _, cities in batches:
        updates: dict[int, list] = collections.defaultdict(list)
        for city in cities:
            for user in follows_by_city.get(city, ()):
                updates[user].append(
                    {"subscription_id": 0, "city_id": city, "reading": SAMPLE_READING}
                )
        # In user order, as readings_publish sends them.
        plan.append(
            [
                (user_group(u), wire_event({"type": "weather", "updates": items}))
                for u, items in sorted(updates.items())
            ]
        )
    origin = batches[0][0] if batches else 0.0
    offsets = [committed - origin for committed, _ in batches]
    layer = UserGroupsLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    started: list[tuple[float, list[int]]] = []
    pool.frames()

    async def replay() -> int:
        await layer.group_send("bench.warm-up", {"type": "weather", "updates": []})
        begin = time.monotonic()
        count = 0
        for offset, messages, (_, cities) in zip(offsets, plan, batches, strict=True):
            wait = begin + offset - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            started.append((time.time(), cities))
            for group, event in messages:
                await layer.group_send(group, event)
                count += 1
        await layer.flush()
        return count

    sent = asyncio.run(replay())
    expected = sum(1 for user in online for _ in follows[user])
    return score(drain(pool, expected), started, follows, online) | {"messages_sent": sent}


def run(*, log_dir: Path, ports: list[int], live: Live | None = None) -> dict:
    built = (
        live.world
        if live
        else world.build(users=USERS, cities=CITIES, per_user=PER_USER, run=REGION, sessions=True)
    )
    fake_port = ports[-1] if ports else free_port()
    fake = start_fake(fake_port, budget="", log=log_dir / "fake_provider.log")
    fake_url = f"http://127.0.0.1:{fake_port}"
    if live is None:
        port = ports[0] if ports else free_port()
        server = start_uvicorn(port, server_env(), log=log_dir / "fanout_server.log")
        live = Live(server=server, port=port, pool=ClientPool(), world=built)
    follows = built.follows
    follows_by_city: dict[int, list[int]] = collections.defaultdict(list)
    for user, cities in follows.items():
        for city in cities:
            follows_by_city[city].append(user)
    results: dict = {"users": USERS, "cities": CITIES, "per_user": PER_USER, "levels": {}}
    try:
        provider = use_fake_provider(fake_url, "1000000/second")
        clients = clients_for(built)
        if live.connected:
            # Sockets held by the connections benchmark: measure there, then with fewer.
            held = len(live.connected)
            levels = [held, *sorted((n for n in set(LEVELS) if n < held), reverse=True)]
        else:
            levels = sorted(LEVELS)
        for level in levels:
            held = len(live.connected)
            if level < held:
                live.connected = live.pool.keep(level)
            elif level > held:
                more = connect_until(
                    live.pool, live.url, clients[held:level], seconds=CONNECT_SECONDS
                )
                live.connected = [c.user for c in clients[: held + more["connected"]]]
            online = set(live.connected)
            if not online or str(len(online)) in results["levels"]:
                continue
            pid = live.server.pid
            settle(pid)
            spent = cpu_seconds(pid)
            skywatch, batches = skywatch_refresh(live.pool, follows, online, provider, fake_url)
            skywatch["server_cpu_us_per_frame"] = server_cpu(pid, spent, skywatch["frames"])
            settle(pid)
            spent = cpu_seconds(pid)
            baseline = bare_replay(live.pool, batches, follows_by_city, follows, online)
            baseline["server_cpu_us_per_frame"] = server_cpu(pid, spent, baseline["frames"])
            runs = {"skywatch": skywatch, "baseline": baseline}
            if len(online) == max(levels):
                # The same refresh paced by the provider's budget, as production runs it.
                settle(pid)
                spent = cpu_seconds(pid)
                paced_provider = use_fake_provider(fake_url, BUDGET)
                paced, _ = skywatch_refresh(live.pool, follows, online, paced_provider, fake_url)
                paced["server_cpu_us_per_frame"] = server_cpu(pid, spent, paced["frames"])
                runs["paced"] = paced
                provider = use_fake_provider(fake_url, "1000000/second")
            results["levels"][str(len(online))] = runs
    finally:
        live.close()
        process_stop(fake)
        restore_provider()
    return results


def table(results: dict) -> tuple[list[str], list[list]]:
    columns = [
        "sockets",
        "sender",
        "msgs/user/batch",
        "expected",
        "missing",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99 vs bare",
        "publish µs/msg",
        "server CPU µs/frame",
    ]
    rows = []
    for level, runs in sorted(results["levels"].items(), key=lambda item: int(item[0])):
        base = runs["baseline"]
        for key, label in (
            ("paced", f"Skywatch refresh, paced ({BUDGET})"),
            ("skywatch", "Skywatch refresh, unpaced burst"),
            ("baseline", "bare group_send, unpaced"),
        ):
            run = runs.get(key)
            if run is None:
                continue
            rows.append(
                [
                    int(level),
                    label,
                    run["messages_per_user_batch"],
                    run["expected_messages"],
                    run["missing"],
                    run["p50_ms"],
                    run["p99_ms"],
                    run["max_ms"],
                    f"{run['p99_ms'] / base['p99_ms']:.2f}x" if base["p99_ms"] else "-",
                    run.get("publish_us_per_message", "-"),
                    run.get("server_cpu_us_per_frame", "-"),
                ]
            )
    return columns, rows
