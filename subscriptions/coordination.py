"""How refresh cycles stay one at a time across processes, and how a cycle's queued batches
stay pending while a worker still runs them.

One abstraction, two backends: Redis when REDIS_URL is set (every worker and beat share it),
else this process's memory (embedded mode, one process). Both renew through one heartbeat.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from redis.exceptions import LockError, RedisError

from weather_provider.limiter import shared_redis

logger = logging.getLogger(__name__)

CYCLE_LOCK_KEY = "skywatch:refresh:cycle-lock"
PENDING_KEY = "skywatch:refresh:pending-batches"
# The Redis cycle lock expires this long after its holder dies; the heartbeat renews it meanwhile.
CYCLE_LOCK_SECONDS = 60
# A cycle's batches stay pending while a batch task renews this lease. A worker killed with its
# batches leaves them unacknowledged for the broker's visibility timeout (an hour): once no batch
# has run for this long, the next cycle queues their cities again instead of waiting for them.
PENDING_LEASE_SECONDS = 60


class RedisCoordination:
    """A Redis lock for the cycle and a counter with an expiry for the pending batches."""

    def __init__(self, client) -> None:
        self.client = client

    def cycle_acquire(self):
        lock = self.client.lock(CYCLE_LOCK_KEY, timeout=CYCLE_LOCK_SECONDS, thread_local=False)
        return lock if lock.acquire(blocking=False) else None

    def cycle_renew(self, lock) -> bool:
        try:
            lock.reacquire()
        except LockError:
            return False
        return True

    def cycle_release(self, lock) -> None:
        with suppress(LockError):
            lock.release()

    def pending(self) -> int:
        return int(self.client.get(PENDING_KEY) or 0)

    def pending_set(self, count: int, *, ttl: float) -> None:
        if count:
            self.client.set(PENDING_KEY, count, px=math.ceil(ttl * 1000))
        else:
            self.client.delete(PENDING_KEY)

    def pending_renew(self, ttl: float) -> bool:
        # Nothing when the lease has already lapsed: PEXPIRE of a missing key does nothing.
        self.client.pexpire(PENDING_KEY, math.ceil(ttl * 1000))
        return True

    def pending_done(self) -> None:
        if self.client.decr(PENDING_KEY) <= 0:
            self.client.delete(PENDING_KEY)

    def reset(self) -> None:
        self.client.delete(CYCLE_LOCK_KEY, PENDING_KEY)


class LocalCoordination:
    """The same in one process: a lock that never expires, and a counter with a deadline."""

    def __init__(self) -> None:
        self._cycle = threading.Lock()
        self._guard = threading.Lock()
        self._count = 0
        self._expires_at = 0.0

    def cycle_acquire(self):
        return self._cycle if self._cycle.acquire(blocking=False) else None

    def cycle_renew(self, lock) -> bool:
        return True

    def cycle_release(self, lock) -> None:
        lock.release()

    def pending(self) -> int:
        with self._guard:
            return self._count if self._expires_at >= time.monotonic() else 0

    def pending_set(self, count: int, *, ttl: float) -> None:
        with self._guard:
            self._count, self._expires_at = count, time.monotonic() + ttl

    def pending_renew(self, ttl: float) -> bool:
        with self._guard:
            now = time.monotonic()
            if self._expires_at >= now:
                self._expires_at = max(self._expires_at, now + ttl)
        return True

    def pending_done(self) -> None:
        with self._guard:
            self._count = max(0, self._count - 1)

    def reset(self) -> None:
        with self._guard:
            self._count, self._expires_at = 0, 0.0


_local = LocalCoordination()


def coordination() -> RedisCoordination | LocalCoordination:
    client = shared_redis()
    return _local if client is None else RedisCoordination(client)


@contextmanager
def heartbeat(renew: Callable[[], bool], *, every: float, what: str) -> Iterator[None]:
    """Call `renew` every `every` seconds in a thread while the block runs; stop when it fails."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                if not renew():
                    logger.error("The %s was lost; another may start", what)
                    return
            except RedisError:
                logger.warning("Could not renew the %s", what, exc_info=True)

    thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat: {what}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def cycle_lock() -> Iterator[bool]:
    """Yields True to the only cycle allowed to run now, False to any other."""
    backend = coordination()
    lock = backend.cycle_acquire()
    if lock is None:
        yield False
        return
    try:
        with heartbeat(
            lambda: backend.cycle_renew(lock), every=CYCLE_LOCK_SECONDS / 3, what="cycle lock"
        ):
            yield True
    finally:
        backend.cycle_release(lock)


def lease_seconds() -> float:
    return getattr(settings, "WEATHER_PENDING_LEASE_SECONDS", PENDING_LEASE_SECONDS)


def pending_batches() -> int:
    """Batches of the last fan-out still queued or running (0 once their lease lapsed)."""
    return coordination().pending()


def pending_batches_start(count: int) -> None:
    coordination().pending_set(count, ttl=lease_seconds())


@contextmanager
def pending_lease_kept() -> Iterator[None]:
    """While a batch runs, its cycle's batches stay pending; when it ends, one fewer is."""
    backend, ttl = coordination(), lease_seconds()
    try:
        backend.pending_renew(ttl)
        with heartbeat(lambda: backend.pending_renew(ttl), every=ttl / 3, what="pending lease"):
            yield
    finally:
        backend.pending_done()


def coordination_reset() -> None:
    """Forget every lock and lease (tests and benchmarks start each run from nothing)."""
    _local.reset()
    client = shared_redis()
    if client is not None:
        RedisCoordination(client).reset()
