"""API rates: signed-in callers by their plan's `api_rate`, anonymous auth calls by address.

Counted by `limits`' sliding window counter: one Redis script call per request (DRF's own
throttle reads the caller's whole request log from the cache and writes it back, two round
trips and a pickled list as long as the rate). The counters live in Redis when REDIS_URL is set,
shared by every process, and in memory otherwise. While Redis does not answer, calls are let
through (logged once a minute), as the forgiving cache does for the rest of the rate limits.
"""

from __future__ import annotations

import functools
import logging
import math
import time

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter
from rest_framework.throttling import BaseThrottle

from skywatch.cache import UNREACHABLE

logger = logging.getLogger(__name__)

FALLBACK_RATE = "60/minute"
# One warning a minute per process says Redis is away; every request would flood the log.
WARN_EVERY_SECONDS = 60.0
DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _limiter() -> SlidingWindowCounterRateLimiter:
    return _limiter_for(settings.REDIS_URL)


@functools.lru_cache(maxsize=8)
def _limiter_for(redis_url: str) -> SlidingWindowCounterRateLimiter:
    """One limiter per process for a Redis URL (in memory without one)."""
    storage: Storage
    if redis_url:
        options = {"socket_connect_timeout": 1, "socket_timeout": 1}
        storage = RedisStorage(redis_url, key_prefix="throttle", **options)
    else:
        storage = MemoryStorage()
    return SlidingWindowCounterRateLimiter(storage)


def reset() -> None:
    """Forget every counter (tests; an operator lifting a lockout); nothing to forget while
    their Redis is away."""
    try:
        _limiter().storage.reset()
    except UNREACHABLE as exc:
        WindowThrottle._warn(exc)


@functools.lru_cache(maxsize=64)
def rate_item(rate: str) -> RateLimitItemPerSecond:
    """DRF's rate format ("100/hour", "5/m"): that many requests per period."""
    count, period = rate.split("/")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(rate)
    return RateLimitItemPerSecond(int(count), DURATIONS[period.strip()[0]])


class WindowThrottle(BaseThrottle):
    """A sliding window per key; `rate` and `key` say whose window and how wide."""

    _warned_at: float | None = None
    _wait: float | None = None

    def rate(self, request) -> str:
        raise NotImplementedError

    def key(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        key = self.key(request)
        if key is None:
            return True
        item = self.item(request)
        limiter = _limiter()
        try:
            if limiter.hit(item, key):
                return True
            reset_at = limiter.get_window_stats(item, key).reset_time
        except UNREACHABLE as exc:
            self._warn(exc)
            return True
        self._wait = min(max(reset_at - time.time(), 1.0), float(item.get_expiry()))
        return False

    def item(self, request) -> RateLimitItemPerSecond:
        return rate_item(self.rate(request))

    def wait(self) -> float | None:
        return None if self._wait is None else math.ceil(self._wait)

    @staticmethod
    def _warn(exc: Exception) -> None:
        now = time.monotonic()
        last = WindowThrottle._warned_at
        if last is None or now - last >= WARN_EVERY_SECONDS:
            WindowThrottle._warned_at = now
            logger.warning("The rate limits' Redis is unreachable, letting calls through: %s", exc)


class PlanRateThrottle(WindowThrottle):
    """The rate is read from the caller's Plan row on every request: admin edits apply at once."""

    def key(self, request) -> str | None:
        user = request.user
        if not user or not user.is_authenticated:
            return None
        return f"plan:{user.pk}"

    def rate(self, request) -> str:
        return request.user.plan.api_rate

    def item(self, request) -> RateLimitItemPerSecond:
        rate = self.rate(request)
        try:
            return rate_item(rate)
        except (ValueError, KeyError, IndexError):
            logger.warning("Plan %s has an unreadable api_rate %r", request.user.plan_id, rate)
            return rate_item(FALLBACK_RATE)


class AuthRateThrottle(WindowThrottle):
    """Register, login, refresh and logout per client address, at API_AUTH_RATE."""

    def key(self, request) -> str:
        return f"auth:{self.get_ident(request)}"

    def rate(self, request) -> str:
        return settings.API_AUTH_RATE
