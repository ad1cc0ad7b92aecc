"""One provider call (readings, forecasts or both) under the budget and the breaker, paying the
call's weight, retried with backoff when it may help."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from weather_provider.base import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
    CallKind,
    Location,
    ProviderError,
    WeatherProvider,
)
from weather_provider.breaker import breaker_for
from weather_provider.limiter import budget_for

logger = logging.getLogger(__name__)


class CircuitOpen(ProviderError):
    """The provider failed too often lately; nobody calls it until the circuit closes."""

    def __init__(self, *, label: str, retry_after: float) -> None:
        super().__init__(
            f"{label} failed repeatedly; calls are paused for {max(1, round(retry_after))} s.",
            retry_after=retry_after,
        )


@dataclass
class CallStats:
    """What reading a batch cost: provider calls made (retries included) and seconds waited."""

    calls: int = 0
    waited: float = 0.0


def retry_setting(name: str, default: float) -> float:
    return getattr(settings, name, default)


def is_worth_retrying(exc: BaseException) -> bool:
    """Transient provider errors are retried, unless the provider asks for a long wait."""
    if not isinstance(exc, ProviderError) or exc.permanent or isinstance(exc, CircuitOpen):
        return False
    longest = retry_setting("WEATHER_RETRY_MAX_WAIT", 60.0)
    return exc.retry_after is None or exc.retry_after <= longest


class wait_retry_after(wait_base):
    """The provider's Retry-After when it sent one, else the fallback (exponential with jitter)."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.fallback(retry_state)


def provider_label(provider: WeatherProvider) -> str:
    return getattr(provider, "label", "") or provider.name


def report_failure(provider: WeatherProvider, exc: ProviderError) -> None:
    """Permanent failures are logged as errors (Sentry) once until a call works again."""
    if exc.permanent and breaker_for(provider.name).first_report(exc.message):
        logger.error("Weather provider %s failed permanently: %s", provider.name, exc.message)
    else:
        logger.warning("Weather provider %s failed: %s", provider.name, exc.message)


def provider_call(
    *,
    provider: WeatherProvider,
    locations: Sequence[Location],
    kind: CallKind = CURRENT,
    max_wait: float | None = None,
    attempts: int | None = None,
    stats: CallStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
    reserve: float = 0.0,
) -> Any:
    """The answer of a call of `kind` for `locations`: every attempt pays the call's weight
    (`provider.call_weight(locations, kind=kind)`) from the shared budget (waiting at most
    `max_wait`, leaving `reserve` of every window free), is refused while the circuit is open,
    and transient errors are retried honouring Retry-After."""
    call: Callable[[Sequence[Location]], Any] = {
        CURRENT: provider.current,
        FORECAST: provider.forecast,
        CURRENT_AND_FORECAST: provider.current_and_forecast,
    }[kind]
    budget = budget_for(provider)
    breaker = breaker_for(provider.name)
    weight = provider.call_weight(locations, kind=kind)
    stats = stats if stats is not None else CallStats()

    def attempt() -> Any:
        open_for = breaker.open_for()
        if open_for > 0:
            raise CircuitOpen(label=provider_label(provider), retry_after=open_for)
        stats.waited += budget.acquire(weight, max_wait=max_wait, reserve=reserve)
        stats.calls += 1
        try:
            answer = call(locations)
        except ProviderError as exc:
            breaker.record_failure(permanent=exc.permanent)
            if exc.retry_after:
                budget.pause(exc.retry_after)
            report_failure(provider, exc)
            raise
        except Exception:
            breaker.record_failure()
            raise
        breaker.record_success()
        return answer

    retrying = Retrying(
        stop=stop_after_attempt(int(attempts or retry_setting("WEATHER_RETRY_ATTEMPTS", 3))),
        wait=wait_retry_after(
            wait_exponential_jitter(
                multiplier=retry_setting("WEATHER_RETRY_INITIAL_WAIT", 1.0),
                max=retry_setting("WEATHER_RETRY_MAX_WAIT", 60.0),
                jitter=retry_setting("WEATHER_RETRY_JITTER", 1.0),
            )
        ),
        retry=retry_if_exception(is_worth_retrying),
        reraise=True,
        sleep=sleep,
    )
    return retrying(attempt)
