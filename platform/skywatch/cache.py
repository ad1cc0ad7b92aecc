"""Django's Redis cache, forgiving: while Redis is unreachable a read misses and a write is lost.

Only rate limits (DRF throttles, allauth) and the refresh status live in the cache, so a
Redis restart lets them fail open for its duration instead of turning every request into a 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# One warning a minute per process is enough to say Redis is down; every request would flood.
WARN_EVERY_SECONDS = 60.0


class ForgivingRedisCache(RedisCache):
    """RedisCache whose operations fall back to "not cached" when Redis does not answer."""

    _warned_at: float | None = None  # per process: Django builds one cache object per thread

    def _attempt(self, operation: Callable, fallback: Any, *args: Any) -> Any:
        try:
            return operation(*args)
        except UNREACHABLE as exc:
            now = time.monotonic()
            last = ForgivingRedisCache._warned_at
            if last is None or now - last >= WARN_EVERY_SECONDS:
                ForgivingRedisCache._warned_at = now
                logger.warning("The cache (Redis) is unreachable, carrying on without it: %s", exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._attempt(super().get, default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._attempt(super().set, None, key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._attempt(super().add, False, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._attempt(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._attempt(super().delete, False, key, version)

    def has_key(self, key, version=None):
        return self._attempt(super().has_key, False, key, version)

    def get_many(self, keys, version=None):
        return self._attempt(super().get_many, {}, keys, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._attempt(super().set_many, list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        self._attempt(super().delete_many, None, keys, version)
