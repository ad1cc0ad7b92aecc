"""Support shared by the tests and the benchmarks: a clean slate for the refresh pipeline."""

from __future__ import annotations

from contextlib import suppress

from django.core.cache import cache

from subscriptions.coordination import coordination_reset
from subscriptions.planning import LAST_CYCLE_KEY, LAST_SUCCESS_KEY
from weather_provider.breaker import breaker_for
from weather_provider.limiter import allowances_reset, budget_for


def refresh_state_reset(provider) -> None:
    """Forget the provider's budget and circuit, the last cycle, every lock and lease, and
    every account's on-demand allowance."""
    with suppress(ValueError):  # a test may leave a malformed budget behind
        budget_for(provider).reset()
    breaker_for(provider.name).reset()
    cache.delete_many([LAST_SUCCESS_KEY, LAST_CYCLE_KEY])
    coordination_reset()
    allowances_reset()
