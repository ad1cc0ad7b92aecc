"""Fan-out cost per user of channels-redis' core and PubSub layers, and of Skywatch's own
(notifications.layers, which replaced PubSub), against the local Redis.

One refresh batch means one `group_send` to `user.<id>` per follower. This measures, for each
layer, what that costs per user when the user has a tab open (one listener per user in another
process, as the web process is to the worker) and when nobody listens (most followers, most of
the time); then the publish path as a sync caller (a Celery worker) drives it: one
`async_to_sync` per user versus one per batch.

Round trips are counted in the clients (exact, whatever else the machine does); times are wall
clock and CPU of the sending process, medians over the rounds after a warm-up round.

    REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/channel_layer_fanout.py [--users N]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import statistics
import sys
import time

import redis
from asgiref.sync import async_to_sync
from redis.asyncio.connection import AbstractConnection
from redis.connection import AbstractConnection as SyncConnection

# Run as a script, so the project root is put on the path for the shared bench modules.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.support.samples import SAMPLE_READING

# channels_redis' default capacity (100), core sized for a 10,000-user burst, PubSub, and
# Skywatch's layer.
LAYERS = ("core", "core-10k", "pubsub", "skywatch")
PREFIX = "skywatch-bench"
# A realistic `weather` event: three cities with a full reading each (about 1.3 KB).
EVENT = {
    "type": "weather",
    "updates": [
        {"subscription_id": n, "city_id": n, "reading": SAMPLE_READING} for n in range(1, 4)
    ],
}

round_trips = 0


def count_round_trips() -> None:
    """Count every request this process writes to Redis (a pipeline is one), async or not."""
    original = AbstractConnection.send_packed_command
    original_sync = SyncConnection.send_packed_command

    async def counted(self, command, check_health=True):
        global round_trips
        round_trips += 1
        return await original(self, command, check_health)

    def counted_sync(self, command, check_health=True):
        global round_trips
        round_trips += 1
        return original_sync(self, command, check_health)

    AbstractConnection.send_packed_command = counted
    SyncConnection.send_packed_command = counted_sync


def make_layer(kind: str, url: str):
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    hosts = [url]
    if kind == "skywatch":
        from notifications.layers import UserGroupsLayer

        return UserGroupsLayer(hosts=hosts, prefix=PREFIX)
    if kind == "core":
        return RedisChannelLayer(hosts=hosts, prefix=PREFIX, capacity=100, expiry=60)
    if kind == "core-10k":
        return RedisChannelLayer(hosts=hosts, prefix=PREFIX, capacity=10_000, expiry=60)
    return RedisPubSubChannelLayer(hosts=hosts, prefix=PREFIX)


def group(user: int) -> str:
    return f"user.{user}"


def numbered(round_: int) -> dict:
    return {**EVENT, "round": round_}


async def send_batch(layer, users: int, event: dict) -> None:
    for user in range(users):
        await layer.group_send(group(user), event)


def listen(kind: str, url: str, users: int, rounds: int, ready, results) -> None:
    """A web process with one open tab per user: joins each user's group and counts arrivals."""
    count_round_trips()

    async def run() -> None:
        layer = make_layer(kind, url)
        channels = [await layer.new_channel() for _ in range(users)]
        for user, channel in enumerate(channels):
            await layer.group_add(group(user), channel)
        received: dict[int, int] = collections.defaultdict(int)
        last: dict[int, float] = {}

        async def pump(channel: str) -> None:
            while True:
                message = await layer.receive(channel)
                received[message["round"]] += 1
                last[message["round"]] = time.monotonic()

        pumps = [asyncio.create_task(pump(channel)) for channel in channels]
        ready.set()
        for round_ in range(rounds):
            trips = round_trips
            # Done when every user has it, or when nothing more arrived for two seconds.
            deadline = time.monotonic() + 60
            while received[round_] < users and time.monotonic() < deadline:
                seen = received[round_]
                await asyncio.sleep(2 if seen else 0.05)
                if seen and received[round_] == seen:
                    break
            results.put((received[round_], last.get(round_, time.monotonic()), round_trips - trips))
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)

    asyncio.run(run())


class Meter:
    """Wall time, CPU time and round trips of the sending process over one batch."""

    def __enter__(self) -> Meter:
        self.wall, self.cpu, self.trips = time.monotonic(), time.process_time(), round_trips
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.monotonic() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.trips = round_trips - self.trips


def fanout_online(kind: str, url: str, users: int, rounds: int) -> dict:
    """Every user has a tab open: send cost, delivery time and losses."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Event(), context.Queue()
    total = rounds + 1  # the first round warms connections up and is not counted
    listener = context.Process(target=listen, args=(kind, url, users, total, ready, results))
    listener.start()
    if not ready.wait(60):
        listener.kill()
        raise RuntimeError("listener did not start")
    layer = make_layer(kind, url)
    meters, deliveries, delivered, listener_trips = [], [], [], []

    async def run() -> None:
        await asyncio.sleep(0.5)  # let PubSub subscriptions settle
        for round_ in range(total):
            started = time.monotonic()
            with Meter() as meter:
                await send_batch(layer, users, numbered(round_))
            count, last, trips = await asyncio.get_running_loop().run_in_executor(
                None, results.get, True, 120
            )
            if round_:
                meters.append(meter)
                deliveries.append(last - started)
                delivered.append(count)
                listener_trips.append(trips)

    asyncio.run(run())
    listener.join(30)
    return summary(meters, users) | {
        "delivery": statistics.median(deliveries),
        "delivered": min(delivered),
        "listener_trips": statistics.median(listener_trips) / users,
    }


def fanout_offline(kind: str, url: str, users: int, rounds: int) -> dict:
    """Nobody listens: what publishing to followers without an open tab costs."""
    layer = make_layer(kind, url)
    meters = []

    async def run() -> None:
        await send_batch(layer, 10, EVENT)  # warm the connection up
        for _ in range(rounds):
            with Meter() as meter:
                await send_batch(layer, users, EVENT)
            meters.append(meter)

    asyncio.run(run())
    return summary(meters, users)


def summary(meters: list[Meter], users: int) -> dict:
    wall = statistics.median(m.wall for m in meters)
    return {
        "per_second": users / wall,
        "wall_us": wall / users * 1e6,
        "cpu_us": statistics.median(m.cpu for m in meters) / users * 1e6,
        "trips": statistics.median(m.trips for m in meters) / users,
    }


def publish_path(kind: str, url: str, users: int) -> dict:
    """A sync caller (Celery worker): one async_to_sync per user versus one per batch."""
    layer = make_layer(kind, url)
    with Meter() as each:
        for user in range(users):
            async_to_sync(layer.group_send)(group(user), EVENT)
    with Meter() as batch:
        if kind == "skywatch":  # group_send_many: pipelined, no event loop
            layer.group_send_many([(group(user), EVENT) for user in range(users)])
        else:
            async_to_sync(send_batch)(layer, users, EVENT)
    return {"each": summary([each], users), "batch": summary([batch], users)}


def cleanup(url: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{PREFIX}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def measure(url: str, users: int, rounds: int) -> dict:
    """Every layer's figures, online and offline, and the publish path from sync code."""
    results: dict = {"users": users, "rounds": rounds, "layers": {}, "publish_path": {}}
    for kind in LAYERS:
        cleanup(url)
        online = fanout_online(kind, url, users, rounds)
        cleanup(url)  # the listener is gone; forget its group memberships
        offline = fanout_offline(kind, url, users, rounds)
        results["layers"][kind] = {"online": online, "offline": offline}
    cleanup(url)
    for kind in LAYERS:
        results["publish_path"][kind] = publish_path(kind, url, users)
    cleanup(url)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file (make bench)")
    args = parser.parse_args(argv)
    url = os.environ.get("REDIS_URL", "")
    if not url:
        print("channel_layer_fanout: skipped (set REDIS_URL to a Redis you may write to)")
        return 0
    count_round_trips()
    users, rounds = args.users, args.rounds
    results = measure(url, users, rounds)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out)
    print(f"Channel layer fan-out: {users} users, one weather event each, median of {rounds}")
    print(
        f"{'layer':<9}{'tabs':<6}{'sent/s':>8}{'wall µs/u':>11}{'CPU µs/u':>10}"
        f"{'trips/u':>9}{'listener trips/u':>18}{'delivered':>12}{'all in':>9}"
    )
    for kind in LAYERS:
        online, offline = results["layers"][kind]["online"], results["layers"][kind]["offline"]
        print(
            f"{kind:<9}{'open':<6}{online['per_second']:>8,.0f}{online['wall_us']:>11.0f}"
            f"{online['cpu_us']:>10.0f}{online['trips']:>9.1f}{online['listener_trips']:>18.1f}"
            f"{online['delivered']:>6}/{users:<5}{online['delivery'] * 1000:>7.0f}ms"
        )
        print(
            f"{kind:<9}{'none':<6}{offline['per_second']:>8,.0f}{offline['wall_us']:>11.0f}"
            f"{offline['cpu_us']:>10.0f}{offline['trips']:>9.1f}{'—':>18}{'—':>12}{'—':>9}"
        )
    print()
    print(f"Publish path from sync code (a worker), {users} users, nobody listening")
    print(f"{'layer':<9}{'async_to_sync per user':>24}{'one per batch':>16}{'trips/u':>10}")
    for kind in LAYERS:
        path = results["publish_path"][kind]
        print(
            f"{kind:<9}{path['each']['wall_us']:>19.0f} µs/u{path['batch']['wall_us']:>11.0f} µs/u"
            f"{path['each']['trips']:>6.1f} / {path['batch']['trips']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
