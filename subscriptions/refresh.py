"""The refresh pipeline: followed cities' readings and forecasts, deduplicated and batched,
read under the shared budget, stored and pushed. Planning lives in planning.py, the
one-cycle-at-a-time rules in coordination.py, storing in services.py; this module reads top to
bottom:

    refresh_followed_cities (embedded) / refresh_fan_out + city_batch_refresh (Celery)
      -> refresh_cities -> batches by kind -> _refresh_batch -> read_batch -> store -> publish

A batch is of one kind: readings, forecasts, or both in one call where the provider charges
less for that (Open-Meteo). Readings go first, so a tight budget defers forecasts, not them.
What a person waits for (a weather search, refresh now) is in on_demand.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from skywatch import metrics
from subscriptions import coordination, planning
from subscriptions.events import forecasts_publish_on_commit, readings_publish_on_commit
from subscriptions.models import City, Observation
from subscriptions.selectors import followed_cities
from subscriptions.services import (
    city_mark_stale,
    forecasts_store,
    observations_store,
)
from subscriptions.signals import batch_stored_send
from weather_provider import (
    CURRENT,
    CURRENT_AND_FORECAST,
    FORECAST,
    CallKind,
    Location,
    ProviderError,
    Reading,
    WeatherProvider,
    get_provider,
)
from weather_provider import Forecast as ProviderForecast
from weather_provider.limiter import BudgetSpent, batch_size_for
from weather_provider.retry import CallStats, CircuitOpen, provider_call

logger = logging.getLogger(__name__)

# The API's "refresh now" waits this long for budget before answering 429.
API_MAX_WAIT_SECONDS = 2.0
NO_READING = "The weather provider returned no reading."
UNEXPECTED_ANSWER = "The weather provider sent an unexpected answer."

Progress = Callable[[int, int], None]


@dataclass
class RefreshSummary:
    """What one run did: cities asked for, provider calls (retries included), results, time."""

    cities: int = 0
    calls: int = 0
    stored: int = 0
    failures: int = 0
    deferred: int = 0
    forecasts: int = 0
    forecasts_stored: int = 0
    forecast_failures: int = 0
    forecasts_deferred: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    waited: float = 0.0
    skipped: bool = False


@dataclass
class BatchRead:
    """One provider read: the readings, or why there are none (budget spent, provider error)."""

    readings: dict[int, Reading] = field(default_factory=dict)
    forecasts: dict[int, ProviderForecast] = field(default_factory=dict)
    spent: BudgetSpent | None = None
    error: ProviderError | None = None


def batched(items: Sequence, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- Cycles -------------------------------------------------------------------------------


def refresh_followed_cities(
    *,
    progress: Progress | None = None,
    everything: bool = False,
    readings: bool = True,
    forecasts: bool = True,
) -> RefreshSummary:
    """One cycle, in this process: the stalest followed cities the budget pays for and the
    forecasts that are due (or, with `everything`, all of them), each city once however many
    follow it; skipped while another cycle runs."""
    with coordination.cycle_lock() as held:
        if not held:
            logger.info("A refresh cycle is already running; skipping this one")
            return RefreshSummary(skipped=True)
        provider = get_provider()
        work = planning.cycle_work(
            provider=provider, everything=everything, readings=readings, forecasts=forecasts
        )
        summary = refresh_cities(
            work.cities,
            forecasts=work.forecasts,
            progress=progress,
            provider=provider,
            max_wait=None if everything else work.plan.max_wait,
            attempts=None,
        )
        if not work.cities and readings:
            planning.refresh_success_mark()
        return summary


def refresh_fan_out(*, enqueue: Callable[[list[int], str], object]) -> int:
    """Beat's cycle: cut this cycle's cities into batches and hand each to `enqueue`; returns
    how many. Skipped while another fan-out runs or the previous cycle's batches are pending."""
    with coordination.cycle_lock() as held:
        if not held:
            logger.info("Another refresh fan-out is running; skipping this one")
            return 0
        pending = coordination.pending_batches()
        if pending > 0:
            logger.info("%d batches of the previous cycle are still pending; skipping", pending)
            return 0
        provider = get_provider()
        work = planning.cycle_work(provider=provider)
        batches = list(batches_by_kind(provider, work.cities, work.forecasts))
        coordination.pending_batches_start(len(batches))
        enqueued_at = timezone.now().isoformat()
        for kind, batch in batches:
            enqueue([city.pk for city in batch], enqueued_at, kind)
        if not work.cities:
            planning.refresh_success_mark()
        logger.info(
            "Queued %d cities and %d forecasts in %d batches",
            len(work.cities),
            len(work.forecasts),
            len(batches),
        )
        return len(batches)


def city_batch_refresh(
    *, city_ids: list[int], enqueued_at: str | None = None, kind: CallKind = CURRENT
) -> RefreshSummary:
    """One queued batch: the cities still followed whose reading (or forecast) was not refreshed
    since `enqueued_at`, so a duplicated or redelivered task calls nobody twice."""
    with coordination.pending_lease_kept():
        cities = followed_cities().filter(pk__in=city_ids)
        readings = cities if kind in (CURRENT, CURRENT_AND_FORECAST) else cities.none()
        forecasts = cities if kind in (FORECAST, CURRENT_AND_FORECAST) else cities.none()
        if enqueued_at:
            since = dt.datetime.fromisoformat(enqueued_at)
            readings = readings.exclude(last_refreshed_at__gte=since)
            forecasts = forecasts.exclude(forecast__fetched_at__gte=since)
        max_wait = min(planning.refresh_interval(), planning.CYCLE_MAX_WAIT_SECONDS)
        return refresh_cities(readings, forecasts=forecasts, max_wait=max_wait, attempts=None)


# --- Batches ------------------------------------------------------------------------------


def refresh_cities(
    cities: Iterable[City],
    *,
    forecasts: Iterable[City] = (),
    progress: Progress | None = None,
    max_wait: float | None = API_MAX_WAIT_SECONDS,
    attempts: int | None = 1,
    provider: WeatherProvider | None = None,
) -> RefreshSummary:
    """Read and store the readings of `cities` and the forecasts of `forecasts` batch by batch
    under the shared budget, publishing each stored batch; a batch that cannot get budget
    within `max_wait` is deferred, not failed.

    The defaults suit a caller that cannot wait (a request reading a new city): a moment for
    budget, one attempt. The pipeline passes its own; `max_wait=None` waits as long as it takes
    and `attempts=None` retries as configured.
    """
    started = time.monotonic()
    provider = provider or get_provider()
    readings, forecasts = _cities(cities), _cities(forecasts)
    summary = RefreshSummary(cities=len(readings), forecasts=len(forecasts))
    total = len({city.pk for city in [*readings, *forecasts]})
    for kind, batch in batches_by_kind(provider, readings, forecasts):
        _refresh_batch(
            batch=batch,
            kind=kind,
            provider=provider,
            summary=summary,
            max_wait=max_wait,
            attempts=attempts,
        )
        if progress:
            progress(len(batch), total)
    summary.seconds = time.monotonic() - started
    return summary


def _cities(cities: Iterable[City]) -> list[City]:
    return list(cities.select_related("latest") if hasattr(cities, "select_related") else cities)


def combined_call_saves(provider: WeatherProvider) -> bool:
    """Whether one call for a reading and a forecast costs less budget than two calls."""
    try:
        batch = [Location(0, 0.0, 0.0)] * batch_size_for(provider, kind=CURRENT_AND_FORECAST)
    except ValueError:  # one combined call is more than the whole budget allows
        return False
    both = provider.call_weight(batch, kind=CURRENT_AND_FORECAST)
    return both < provider.call_weight(batch) + provider.call_weight(batch, kind=FORECAST)


def batches_by_kind(
    provider: WeatherProvider, readings: Sequence[City], forecasts: Sequence[City]
) -> Iterator[tuple[CallKind, list[City]]]:
    """The batches of a run, readings first: cities needing both share a call where that is
    cheaper; each kind is cut to the batch size its weight allows."""
    forecast_ids = {city.pk for city in forecasts}
    both: list[City] = []
    if forecast_ids and combined_call_saves(provider):
        both = [city for city in readings if city.pk in forecast_ids]
    both_ids = {city.pk for city in both}
    groups = (
        (CURRENT_AND_FORECAST, both),
        (CURRENT, [city for city in readings if city.pk not in both_ids]),
        (FORECAST, [city for city in forecasts if city.pk not in both_ids]),
    )
    for kind, group in groups:
        if group:
            for batch in batched(group, batch_size_for(provider, kind=kind)):
                yield kind, batch


def _refresh_batch(
    *,
    batch: list[City],
    kind: CallKind,
    provider: WeatherProvider,
    summary: RefreshSummary,
    max_wait: float | None,
    attempts: int | None,
) -> None:
    with_readings, with_forecasts = kind != FORECAST, kind != CURRENT
    stats = CallStats()
    read = read_batch(
        provider=provider,
        cities=batch,
        kind=kind,
        max_wait=max_wait,
        attempts=attempts,
        stats=stats,
    )
    summary.calls += stats.calls
    summary.waited += stats.waited
    if read.spent is not None:
        # Not a failure: the cities keep their place at the head of the queue for next cycle.
        summary.deferred += len(batch) if with_readings else 0
        summary.forecasts_deferred += len(batch) if with_forecasts else 0
        logger.info(
            "Budget spent for %.0f s; %d cities wait for the next cycle",
            read.spent.retry_after,
            len(batch),
        )
        return
    if read.error is not None:
        summary.errors.append(read.error.message)
        summary.forecast_failures += len(batch) if with_forecasts else 0
        if with_readings:
            # A failed forecast keeps the one before; a failed reading makes the card stale.
            summary.failures += len(batch)
            with transaction.atomic():
                readings_publish_on_commit(city_mark_stale(cities=batch, error=read.error.message))
        return
    stored: list[Observation] = []
    forecasts: list = []
    with transaction.atomic():
        if with_readings:
            stored = observations_store(
                readings=[(c, read.readings[c.pk]) for c in batch if c.pk in read.readings],
                provider=provider.name,
            )
            missing = [city for city in batch if city.pk not in read.readings]
            if missing:
                city_mark_stale(cities=missing, error=NO_READING)
                summary.errors.append(NO_READING)
            readings_publish_on_commit([city.pk for city in batch])
            summary.stored += len(stored)
            summary.failures += len(missing)
        if with_forecasts:
            forecasts = forecasts_store(
                forecasts=[(c, read.forecasts[c.pk]) for c in batch if c.pk in read.forecasts],
                provider=provider.name,
            )
            summary.forecasts_stored += len(forecasts)
            summary.forecast_failures += len(batch) - len(forecasts)
            forecasts_publish_on_commit([row.city_id for row in forecasts])
        # Alerts (an app above) evaluate what was stored, in this transaction.
        batch_stored_send([row.city_id for row in [*stored, *forecasts]])
    if stored:
        planning.refresh_success_mark()


def read_batch(
    *,
    provider: WeatherProvider,
    cities: Sequence[City],
    kind: CallKind = CURRENT,
    max_wait: float | None,
    attempts: int | None,
    stats: CallStats | None = None,
    reserve: float = 0.0,
) -> BatchRead:
    """One call of `kind` for `cities` under the budget, retries and breaker; every failure
    becomes an answer, never an exception (the one place that maps them)."""
    locations = [Location(city.pk, city.latitude, city.longitude) for city in cities]
    try:
        answer = provider_call(
            provider=provider,
            locations=locations,
            kind=kind,
            max_wait=max_wait,
            attempts=attempts,
            stats=stats,
            reserve=reserve,
        )
    except BudgetSpent as exc:
        metrics.provider_throttled(provider=provider.name, reason="budget")
        return BatchRead(spent=exc)
    except CircuitOpen as exc:
        metrics.provider_throttled(provider=provider.name, reason="circuit_open")
        return BatchRead(error=exc)
    except ProviderError as exc:
        metrics.provider_call(provider=provider.name, ok=False)
        if exc.retry_after:
            metrics.provider_throttled(provider=provider.name, reason="retry_after")
        return BatchRead(error=exc)
    except Exception:
        metrics.provider_call(provider=provider.name, ok=False)
        logger.exception(
            "Reading %d cities (%s) from %s failed unexpectedly", len(cities), kind, provider.name
        )
        return BatchRead(error=ProviderError(UNEXPECTED_ANSWER))
    metrics.provider_call(provider=provider.name, ok=True)
    if kind == CURRENT:
        return BatchRead(readings=answer)
    if kind == FORECAST:
        return BatchRead(forecasts=answer)
    return BatchRead(readings=answer.readings, forecasts=answer.forecasts)
