"""The provider budget shared by every worker: weighted windows, waited for, never exceeded."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import redis
from django.conf import settings
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from weather_provider.base import CURRENT, CallKind, Location, WeatherProvider

KEY_PREFIX = "skywatch:budget"
ALLOWANCE_PREFIX = "skywatch:allowance"
# A freed slot is taken only once it has been free for a margin (every take is tested against
# the window lengthened by it, whether the taker slept or not), so jitter between taking budget
# (stamped by the worker's clock) and the provider counting the call (at arrival) cannot
# squeeze one call too many into the provider's window. The margin covers the spread of that
# delay, not a share of the window: PROVIDER_BUDGET_MARGIN_SECONDS (the budget benchmark
# measures a spread of a few ms on loopback; NTP keeps a cluster's clocks within a few ms),
# never more than MARGIN_SHARE of a window so that tiny windows stay usable.
DEFAULT_MARGIN_SECONDS = 0.025
MARGIN_SHARE = 0.1
SHORTEST_SLEEP = 0.005
GATE_TIMEOUT_SECONDS = 10

_redis_clients: dict[str, redis.Redis] = {}
_storages: dict[str, Storage] = {}
_budgets: dict[tuple[str, str, str], Budget] = {}
_registry_lock = threading.Lock()


class BudgetSpent(Exception):
    """The budget cannot pay for a call within the wait allowed; `retry_after` says when."""

    def __init__(self, *, retry_after: float) -> None:
        super().__init__(f"The provider budget is spent for {retry_after:.1f} s.")
        self.retry_after = retry_after


def shared_redis() -> redis.Redis | None:
    """One client per process for REDIS_URL, or None in embedded mode."""
    url = settings.REDIS_URL
    if not url:
        return None
    with _registry_lock:
        if url not in _redis_clients:
            _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=10)
        return _redis_clients[url]


def provider_budget(provider: WeatherProvider) -> str:
    """The budget text of a provider: PROVIDER_RATE_LIMIT, else its free tier (see `budget`)."""
    return provider.budget


def budget_windows(budget: str) -> list[RateLimitItem]:
    """The windows of a budget like "60/minute;1000000/month"; ValueError when it is malformed."""
    try:
        windows = parse_many(budget) if budget else []
    except ValueError:
        windows = []
    if not windows or any(window.amount < 1 for window in windows):
        raise ValueError(
            f"The provider budget {budget!r} is not valid; "
            "write it like PROVIDER_RATE_LIMIT=60/minute;1000000/month."
        )
    return windows


def _placeholders(count: int) -> list[Location]:
    return [Location(0, 0.0, 0.0)] * count


def batch_size_within(
    provider: WeatherProvider, windows: Sequence[RateLimitItem], *, kind: CallKind = CURRENT
) -> int:
    """The provider's batch size for calls of `kind`, cut down so that one call never costs
    more than the smallest window."""
    smallest = min(window.amount for window in windows)

    def weight(size: int) -> int:
        return provider.call_weight(_placeholders(size), kind=kind)

    size = max(1, provider.batch_size)
    while size > 1 and weight(size) > smallest:
        size = max(1, min(size - 1, size * smallest // weight(size)))
    if weight(1) > smallest:
        raise ValueError(f"One call to {provider.name} costs more than its whole budget allows.")
    return size


def batches_weight(
    provider: WeatherProvider, count: int, *, batch_size: int, kind: CallKind = CURRENT
) -> int:
    """What calls of `kind` for `count` locations cost, cut into batches of `batch_size`."""
    full, rest = divmod(max(0, count), max(1, batch_size))
    cost = full * provider.call_weight(_placeholders(batch_size), kind=kind) if full else 0
    return cost + (provider.call_weight(_placeholders(rest), kind=kind) if rest else 0)


def kept_free(window: RateLimitItem, reserve: float) -> int:
    """How much of `window` a call that must leave `reserve` of it free may not touch (rounded
    down, so a budget of one call a window is never closed to everyone)."""
    return math.floor(window.amount * min(max(reserve, 0.0), 1.0))


def allowance_spend(*, key: str, per_hour: int) -> float:
    """Count one call against `key`'s allowance of `per_hour` calls in any hour (shared by every
    process through the budget's storage): 0 when it fits, else the seconds until it would."""
    if per_hour < 1:
        return 3600.0
    window = parse_many(f"{per_hour}/hour")[0]
    strategy = MovingWindowRateLimiter(_storage())
    if strategy.hit(window, ALLOWANCE_PREFIX, key):
        return 0.0
    reset_at, _ = strategy.get_window_stats(window, ALLOWANCE_PREFIX, key)
    return max(1.0, reset_at - time.time())


def allowances_reset() -> None:
    """Forget every account's on-demand calls (tests and operators)."""
    storage = _storage()
    if isinstance(storage, MemoryStorage):
        storage.reset()
        return
    client = shared_redis()
    keys = list(client.scan_iter(match=f"*{ALLOWANCE_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)


def margin_seconds() -> float:
    """The safety margin set by PROVIDER_BUDGET_MARGIN_SECONDS (never negative)."""
    return max(
        0.0, float(getattr(settings, "PROVIDER_BUDGET_MARGIN_SECONDS", DEFAULT_MARGIN_SECONDS))
    )


def margin(window: RateLimitItem) -> float:
    """How long after a slot of `window` frees it is taken again: the setting, capped at
    MARGIN_SHARE of the window."""
    return min(margin_seconds(), window.get_expiry() * MARGIN_SHARE)


class Budget:
    """One provider's budget: moving windows kept in `limits` storage, taken whole or not at all."""

    def __init__(
        self,
        *,
        name: str,
        windows: Sequence[RateLimitItem],
        storage: Storage,
        client: redis.Redis | None = None,
        sleep: Callable[[float], None] = time.sleep,
        text: str = "",
    ) -> None:
        self.name = name
        self.windows = list(windows)
        self.text = text
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.client = client
        self.sleep = sleep
        self._local_gate = threading.Lock()
        self._local_paused_until = 0.0

    def __repr__(self) -> str:
        return f"Budget({self.name}: {'; '.join(str(window) for window in self.windows)})"

    @property
    def _pause_key(self) -> str:
        return f"{KEY_PREFIX}:{self.name}:paused-until"

    @contextmanager
    def _gate(self) -> Iterator[None]:
        # Several windows are tested, then all taken; nobody else may take in between.
        if self.client is None:
            with self._local_gate:
                yield
            return
        lock = self.client.lock(
            f"{KEY_PREFIX}:{self.name}:gate",
            timeout=GATE_TIMEOUT_SECONDS,
            sleep=SHORTEST_SLEEP,
            blocking_timeout=GATE_TIMEOUT_SECONDS,
        )
        with lock:
            yield

    def paused_for(self) -> float:
        """Seconds the provider asked everyone to wait (its Retry-After), 0 when none."""
        if self.client is None:
            until = self._local_paused_until
        else:
            until = float(self.client.get(self._pause_key) or 0)
        return max(0.0, until - time.time())

    def pause(self, seconds: float) -> None:
        """Hold every worker back for `seconds`, as the provider's Retry-After asked."""
        if seconds <= 0:
            return
        until = time.time() + seconds
        with self._gate():
            if self.client is None:
                self._local_paused_until = max(self._local_paused_until, until)
            elif until > float(self.client.get(self._pause_key) or 0):
                self.client.set(self._pause_key, repr(until), px=math.ceil(seconds * 1000))

    def _check(self, weight: int) -> None:
        too_small = [window for window in self.windows if window.amount < weight]
        if weight < 1 or too_small:
            raise ValueError(f"A call weighing {weight} can never fit {self}.")

    def _key(self, window: RateLimitItem) -> str:
        return window.key_for(KEY_PREFIX, self.name)

    def _taken_within_margin(self, window: RateLimitItem) -> tuple[float, int]:
        """The oldest take and how much is taken over `window` lengthened by its margin: a freed
        slot still counts until it has been free for the margin."""
        return self.storage.get_moving_window(
            self._key(window), window.amount, window.get_expiry() + margin(window)
        )

    def _keep_for_margin(self) -> None:
        # limits lets a window's key expire one window after the last take; keep it for the
        # margin too, or the last takes would be forgotten before their slots may be taken.
        if self.client is None or not isinstance(self.storage, RedisStorage):
            return
        with self.client.pipeline(transaction=False) as pipe:
            for window in self.windows:
                pipe.pexpire(
                    self.storage.prefixed_key(self._key(window)),
                    math.ceil((window.get_expiry() + margin(window)) * 1000),
                )
            pipe.execute()

    def try_acquire(self, weight: int = 1, *, reserve: float = 0.0) -> float:
        """Take `weight` from every window and return 0, or take nothing and return the wait.

        With `reserve` (a share of each window), take only while that share stays free after
        the call: what on-demand calls leave for the scheduler.
        """
        self._check(weight)
        with self._gate():
            paused = self.paused_for()
            if paused > 0:
                return paused
            waits = []
            for window in self.windows:
                oldest, taken = self._taken_within_margin(window)
                if taken + weight + kept_free(window, reserve) > window.amount:
                    frees_at = oldest + window.get_expiry() + margin(window)
                    waits.append(max(SHORTEST_SLEEP, frees_at - time.time()))
            if waits:
                return max(waits)
            for window in self.windows:
                self.strategy.hit(window, KEY_PREFIX, self.name, cost=weight)
            self._keep_for_margin()
            return 0.0

    def acquire(
        self, weight: int = 1, *, max_wait: float | None = None, reserve: float = 0.0
    ) -> float:
        """Wait until `weight` fits every window, take it and return the seconds waited.

        With `max_wait`, BudgetSpent is raised (and nothing taken) when the wait would be longer.
        """
        started = time.monotonic()
        while True:
            wait = self.try_acquire(weight, reserve=reserve)
            waited = time.monotonic() - started
            if wait <= 0:
                return waited
            if max_wait is not None and waited + wait > max_wait:
                raise BudgetSpent(retry_after=wait)
            self.sleep(wait)

    def used(self) -> dict[str, int]:
        """How much of each window is taken right now, by its text ("60 per 1 minute")."""
        return {
            str(window): window.amount
            - self.strategy.get_window_stats(window, KEY_PREFIX, self.name).remaining
            for window in self.windows
        }

    def reset(self) -> None:
        """Forget what was taken and any pause (tests and operators)."""
        for window in self.windows:
            self.strategy.clear(window, KEY_PREFIX, self.name)
        self._local_paused_until = 0.0
        if self.client is not None:
            self.client.delete(self._pause_key)


def _storage() -> Storage:
    url = settings.REDIS_URL or "memory://"
    with _registry_lock:
        if url not in _storages:
            _storages[url] = MemoryStorage() if url == "memory://" else RedisStorage(url)
        return _storages[url]


def budget_for(provider: WeatherProvider) -> Budget:
    """The provider's shared budget: in Redis when REDIS_URL is set, in this process otherwise.

    The one place a provider's budget is built: its text (`provider_budget`, kept as `text`)
    and its windows (`budget_windows`); `batch_size_for` cuts each kind of call to them.
    """
    text = provider_budget(provider)
    windows = budget_windows(text)
    storage = _storage()
    client = shared_redis()
    key = (provider.name, text, settings.REDIS_URL)
    with _registry_lock:
        if key not in _budgets:
            _budgets[key] = Budget(
                name=provider.name, windows=windows, storage=storage, client=client, text=text
            )
        return _budgets[key]


def batch_size_for(provider: WeatherProvider, *, kind: CallKind = CURRENT) -> int:
    """How many locations one call of `kind` may carry within the provider's budget."""
    return batch_size_within(provider, budget_for(provider).windows, kind=kind)
