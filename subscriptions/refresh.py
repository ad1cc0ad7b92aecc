"""The refresh pipeline: followed cities, deduplicated and batched, read under the shared
budget, stored and pushed. Planning lives in planning.py, the one-cycle-at-a-time rules in
coordination.py, storing in services.py; this module reads top to bottom:

    refresh_followed_cities (embedded) / refresh_fan_out + city_batch_refresh (Celery)
      -> refresh_cities -> _refresh_batch -> _read -> store -> publish on commit

and, for a person waiting, the on-demand reads (weather search, refresh now).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from skywatch.errors import CityNotFoundError, ProviderUnavailable, QuotaExceeded, Throttled
from subscriptions import coordination, planning
from subscriptions.events import readings_publish
from subscriptions.models import City, Observation
from subscriptions.selectors import followed_cities, subscription_get
from subscriptions.services import (
    city_mark_stale,
    city_resolve,
    clean_city_query,
    observations_store,
    search_history_record,
)
from weather_provider import Location, ProviderError, Reading, WeatherProvider, get_provider
from weather_provider.limiter import BudgetSpent, batch_size_within, budget_for
from weather_provider.retry import CallStats, CircuitOpen, provider_read

logger = logging.getLogger(__name__)

# The API's "refresh now" waits this long for budget before answering 429.
API_MAX_WAIT_SECONDS = 2.0
# A reading fetched this recently is served again by a weather search, to spare the budget.
FRESH_READING_SECONDS = 600
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
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    waited: float = 0.0
    skipped: bool = False


@dataclass
class BatchRead:
    """One provider read: the readings, or why there are none (budget spent, provider error)."""

    readings: dict[int, Reading] = field(default_factory=dict)
    spent: BudgetSpent | None = None
    error: ProviderError | None = None


def batched(items: Sequence, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- Cycles -------------------------------------------------------------------------------


def refresh_followed_cities(
    *, progress: Progress | None = None, everything: bool = False
) -> RefreshSummary:
    """One cycle, in this process: the stalest followed cities the budget pays for (or all of
    them with `everything`), each once however many follow it; skipped while another runs."""
    with coordination.cycle_lock() as held:
        if not held:
            logger.info("A refresh cycle is already running; skipping this one")
            return RefreshSummary(skipped=True)
        provider = get_provider()
        cities, plan = planning.cycle_cities(provider=provider, everything=everything)
        summary = refresh_cities(
            cities,
            progress=progress,
            provider=provider,
            max_wait=None if everything else plan.max_wait,
            attempts=None,
        )
        if not cities:
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
        cities, plan = planning.cycle_cities(provider=get_provider())
        batches = list(batched([city.pk for city in cities], plan.batch_size))
        coordination.pending_batches_start(len(batches))
        enqueued_at = timezone.now().isoformat()
        for city_ids in batches:
            enqueue(city_ids, enqueued_at)
        if not batches:
            planning.refresh_success_mark()
        logger.info("Queued %d cities in %d batches", len(cities), len(batches))
        return len(batches)


def city_batch_refresh(*, city_ids: list[int], enqueued_at: str | None = None) -> RefreshSummary:
    """One queued batch: the cities still followed and not refreshed since `enqueued_at`, so a
    duplicated or redelivered task calls nobody twice."""
    with coordination.pending_lease_kept():
        cities = followed_cities().filter(pk__in=city_ids)
        if enqueued_at:
            cities = cities.exclude(last_refreshed_at__gte=dt.datetime.fromisoformat(enqueued_at))
        max_wait = min(planning.refresh_interval(), planning.CYCLE_MAX_WAIT_SECONDS)
        return refresh_cities(cities, max_wait=max_wait, attempts=None)


# --- Batches ------------------------------------------------------------------------------


def refresh_cities(
    cities: Iterable[City],
    *,
    progress: Progress | None = None,
    max_wait: float | None = API_MAX_WAIT_SECONDS,
    attempts: int | None = 1,
    provider: WeatherProvider | None = None,
) -> RefreshSummary:
    """Read and store the given cities batch by batch under the shared budget, publishing each
    stored batch; a batch that cannot get budget within `max_wait` is deferred, not failed.

    The defaults suit a caller that cannot wait (a request reading a new city): a moment for
    budget, one attempt. The pipeline passes its own; `max_wait=None` waits as long as it takes
    and `attempts=None` retries as configured.
    """
    started = time.monotonic()
    provider = provider or get_provider()
    batch_size = batch_size_within(provider, budget_for(provider).windows)
    todo = list(cities.select_related("latest") if hasattr(cities, "select_related") else cities)
    summary = RefreshSummary(cities=len(todo))
    for batch in batched(todo, batch_size):
        _refresh_batch(
            batch=batch, provider=provider, summary=summary, max_wait=max_wait, attempts=attempts
        )
        if progress:
            progress(len(batch), len(todo))
    summary.seconds = time.monotonic() - started
    return summary


def _refresh_batch(
    *,
    batch: list[City],
    provider: WeatherProvider,
    summary: RefreshSummary,
    max_wait: float | None,
    attempts: int | None,
) -> None:
    stats = CallStats()
    read = _read(provider=provider, cities=batch, max_wait=max_wait, attempts=attempts, stats=stats)
    summary.calls += stats.calls
    summary.waited += stats.waited
    if read.spent is not None:
        # Not a failure: the cities keep their place at the head of the queue for next cycle.
        summary.deferred += len(batch)
        logger.info(
            "Budget spent for %.0f s; %d cities wait for the next cycle",
            read.spent.retry_after,
            len(batch),
        )
        return
    if read.error is not None:
        summary.failures += len(batch)
        summary.errors.append(read.error.message)
        with transaction.atomic():
            _publish_on_commit(city_mark_stale(cities=batch, error=read.error.message))
        return
    with transaction.atomic():
        stored = observations_store(
            readings=[(city, read.readings[city.pk]) for city in batch if city.pk in read.readings],
            provider=provider.name,
        )
        missing = [city for city in batch if city.pk not in read.readings]
        if missing:
            city_mark_stale(cities=missing, error=NO_READING)
            summary.errors.append(NO_READING)
        _publish_on_commit([city.pk for city in batch])
    summary.stored += len(stored)
    summary.failures += len(missing)
    if stored:
        planning.refresh_success_mark()


def _read(
    *,
    provider: WeatherProvider,
    cities: Sequence[City],
    max_wait: float | None,
    attempts: int | None,
    stats: CallStats | None = None,
) -> BatchRead:
    """The provider's readings of `cities` under the budget, retries and breaker; every failure
    becomes an answer, never an exception (the one place that maps them)."""
    locations = [Location(city.pk, city.latitude, city.longitude) for city in cities]
    try:
        readings = provider_read(
            provider=provider,
            locations=locations,
            max_wait=max_wait,
            attempts=attempts,
            stats=stats,
        )
    except BudgetSpent as exc:
        return BatchRead(spent=exc)
    except ProviderError as exc:
        return BatchRead(error=exc)
    except Exception:
        logger.exception(
            "Reading %d cities from %s failed unexpectedly", len(cities), provider.name
        )
        return BatchRead(error=ProviderError(UNEXPECTED_ANSWER))
    return BatchRead(readings=readings)


def _publish_on_commit(city_ids: list[int]) -> None:
    if city_ids:
        transaction.on_commit(lambda: readings_publish(city_ids))


# --- On demand ----------------------------------------------------------------------------


def city_refresh_now(*, city: City) -> Observation:
    """Read one city now (the API's refresh): Throttled when the budget is spent for more than
    a moment, ProviderUnavailable when the provider fails or its circuit is open."""
    provider = get_provider()
    read = _read(provider=provider, cities=[city], max_wait=API_MAX_WAIT_SECONDS, attempts=1)
    if read.spent is not None:
        raise Throttled(
            "The weather provider's budget is spent for now; try again shortly.",
            retry_after=math.ceil(read.spent.retry_after),
        )
    if isinstance(read.error, CircuitOpen):
        raise ProviderUnavailable(read.error.message)
    if read.error is not None or city.pk not in read.readings:
        message = read.error.message if read.error is not None else NO_READING
        with transaction.atomic():
            _publish_on_commit(city_mark_stale(cities=[city], error=message))
        if read.error is not None and read.error.retry_after:
            raise Throttled(message, retry_after=math.ceil(read.error.retry_after))
        raise ProviderUnavailable(message)
    with transaction.atomic():
        (observation,) = observations_store(
            readings=[(city, read.readings[city.pk])], provider=provider.name
        )
        _publish_on_commit([city.pk])
    return observation


class SearchCityNotFound(CityNotFoundError):
    """A weather search for a place the provider does not know: nothing to show (404)."""

    status_code = 404


def weather_search(*, user, query: str | None) -> tuple[str, City, Observation]:
    """Current weather for a typed name, recorded in the caller's history once the name is valid;
    a reading fetched less than FRESH_READING_SECONDS ago is served again."""
    text = clean_city_query(query, field="city")
    search_history_record(user=user, city_name=text)
    try:
        city = city_resolve(query=text)
    except CityNotFoundError as exc:
        raise SearchCityNotFound(exc.message, field="city") from exc
    fresh_since = timezone.now() - timedelta(seconds=FRESH_READING_SECONDS)
    latest = city.latest
    if (
        latest is not None
        and not city.stale
        and city.last_refreshed_at is not None
        and city.last_refreshed_at >= fresh_since
    ):
        return text, city, latest
    return text, city, city_refresh_now(city=city)


def subscription_refresh(*, user, subscription_id: int) -> Observation:
    """Read one of the caller's cities now, under the provider budget; paused ones are refused."""
    subscription = subscription_get(user=user, subscription_id=subscription_id)
    if subscription.paused:
        raise QuotaExceeded(
            "This city is paused: your plan's limit is reached. Remove a city or upgrade.",
        )
    return city_refresh_now(city=subscription.city)
