"""A circuit breaker per provider: after repeated failures nobody calls it for a while."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from weather_provider.limiter import shared_redis

KEY_PREFIX = "skywatch:breaker"
# Failures older than this many cooldowns no longer count as consecutive.
FAILURE_MEMORY_COOLDOWNS = 10


@dataclass
class _LocalState:
    failures: int = 0
    failures_expire_at: float = 0.0
    open_until: float = 0.0
    reported: str = ""


_local_states: dict[str, _LocalState] = {}
_local_lock = threading.Lock()


class CircuitBreaker:
    """Opens after `threshold` consecutive failed calls for `cooldown` seconds (longer when a
    failure is permanent); kept in Redis when REDIS_URL is set so every worker sees it."""

    def __init__(
        self,
        *,
        name: str,
        threshold: int | None = None,
        cooldown: float | None = None,
        permanent_cooldown: float | None = None,
    ) -> None:
        self.name = name
        self.threshold = threshold or getattr(settings, "WEATHER_BREAKER_THRESHOLD", 5)
        self.cooldown = cooldown or getattr(settings, "WEATHER_BREAKER_COOLDOWN", 60.0)
        self.permanent_cooldown = permanent_cooldown or getattr(
            settings, "WEATHER_BREAKER_PERMANENT_COOLDOWN", 900.0
        )
        self.client = shared_redis()

    def _key(self, part: str) -> str:
        return f"{KEY_PREFIX}:{self.name}:{part}"

    def _local(self) -> _LocalState:
        return _local_states.setdefault(self.name, _LocalState())

    def open_for(self) -> float:
        """Seconds until calls are allowed again; 0 while the circuit is closed."""
        if self.client is None:
            with _local_lock:
                return max(0.0, self._local().open_until - time.time())
        milliseconds = self.client.pttl(self._key("open"))
        return max(0.0, milliseconds / 1000) if milliseconds and milliseconds > 0 else 0.0

    def record_success(self) -> None:
        """A call worked: the failures are forgotten and the next permanent error is news again."""
        if self.client is None:
            with _local_lock:
                _local_states[self.name] = _LocalState()
            return
        self.client.delete(self._key("failures"), self._key("open"), self._key("reported"))

    def record_failure(self, *, permanent: bool = False) -> bool:
        """Count a failed call; return True when this failure opened the circuit."""
        memory = self.cooldown * FAILURE_MEMORY_COOLDOWNS
        opens_for = self.permanent_cooldown if permanent else self.cooldown
        if self.client is None:
            with _local_lock:
                state = self._local()
                now = time.time()
                if state.failures_expire_at < now:
                    state.failures = 0
                state.failures += 1
                state.failures_expire_at = now + memory
                if permanent or state.failures >= self.threshold:
                    was_open = state.open_until > now
                    state.open_until = max(state.open_until, now + opens_for)
                    return not was_open
                return False
        pipe = self.client.pipeline()
        pipe.incr(self._key("failures"))
        pipe.expire(self._key("failures"), math.ceil(memory))
        failures, _ = pipe.execute()
        if not (permanent or failures >= self.threshold):
            return False
        milliseconds = math.ceil(opens_for * 1000)
        opened = bool(self.client.set(self._key("open"), "1", px=milliseconds, nx=True))
        if permanent and not opened:
            self.client.set(self._key("open"), "1", px=milliseconds)
        return opened

    def first_report(self, message: str) -> bool:
        """True the first time this permanent failure is seen (until a call works again)."""
        if self.client is None:
            with _local_lock:
                state = self._local()
                if state.reported == message:
                    return False
                state.reported = message
                return True
        previous = self.client.set(self._key("reported"), message, get=True)
        return previous is None or previous.decode() != message

    def reset(self) -> None:
        """Close the circuit and forget everything (tests and operators)."""
        self.record_success()


def breaker_for(name: str) -> CircuitBreaker:
    """The breaker of the provider called `name`, with the thresholds from the settings."""
    return CircuitBreaker(name=name)
