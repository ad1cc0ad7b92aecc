"""The refresh pipeline: followed cities, deduplicated and batched, read, stored and pushed."""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from notifications.publish import publish_readings
from skywatch.errors import ProviderUnavailable, Throttled
from subscriptions.models import City, Observation
from subscriptions.selectors import followed_cities
from weather_provider import Location, ProviderError, Reading, WeatherProvider, get_provider
from weather_provider.breaker import breaker_for
from weather_provider.limiter import (
    BudgetSpent,
    batch_size_within,
    budget_for,
    provider_budget,
    shared_redis,
)
from weather_provider.retry import CallStats, CircuitOpen, provider_read

logger = logging.getLogger(__name__)

LAST_SUCCESS_KEY = "skywatch:refresh:last_success"
LAST_CYCLE_KEY = "skywatch:refresh:last_cycle"
CYCLE_LOCK_KEY = "skywatch:refresh:cycle-lock"
PENDING_KEY = "skywatch:refresh:pending-batches"
PERIODIC_TASK_NAME = "refresh followed cities"
PERIODIC_TASK = "subscriptions.tasks.refresh_followed_cities_task"
# The Redis cycle lock expires this long after its holder dies; a heartbeat renews it meanwhile.
CYCLE_LOCK_SECONDS = 60
# A batch waits at most this long for budget inside a scheduled cycle, then the next cycle has it.
CYCLE_MAX_WAIT_SECONDS = 900
# A cycle's batches stay pending while a batch task renews this lease. A worker killed with its
# batches leaves them unacknowledged for the broker's visibility timeout (an hour): once no batch
# has run for this long, the next cycle queues their cities again instead of waiting for them.
PENDING_LEASE_SECONDS = 60
# The API's "refresh now" waits this long for budget before answering 429.
API_MAX_WAIT_SECONDS = 2.0
NO_READING = "The weather provider returned no reading."
# What a new reading overwrites when its (city, observed_at) row already exists.
READING_FIELDS = [name for name in Reading.__dataclass_fields__ if name != "observed_at"]

Progress = Callable[[int, int], None]

_local_cycle_lock = threading.Lock()
_local_pending = {"count": 0, "expires_at": 0.0}
_local_pending_lock = threading.Lock()


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


@dataclass(frozen=True)
class RefreshPlan:
    """How followed cities fit the budget: how many per cycle, and how often each comes round."""

    followed: int
    per_cycle: int
    batch_size: int
    calls_per_cycle: int
    interval_seconds: int
    effective_interval_seconds: int

    @property
    def stretched(self) -> bool:
        return self.effective_interval_seconds > self.interval_seconds


def batched(items: Sequence, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- Storing ------------------------------------------------------------------------------


def observation_store(*, city: City, reading: Reading, provider: str) -> Observation:
    """Upsert one reading (unique per city and time) and make it the city's latest."""
    return observations_store(readings=[(city, reading)], provider=provider)[0]


def observations_store(
    *, readings: Sequence[tuple[City, Reading]], provider: str
) -> list[Observation]:
    """Upsert a batch's readings (unique per city and time) and make each its city's latest
    when it is newer: two queries however many cities (bench/budget.py measured 7 a city)."""
    if not readings:
        return []
    rows = [
        Observation(city=city, provider=provider, **reading.as_dict()) for city, reading in readings
    ]
    # An existing (city, observed_at) row is updated in place, so a retried batch adds nothing.
    Observation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["city", "observed_at"],
        update_fields=[*READING_FIELDS, "provider"],
    )
    fresh = {"last_refreshed_at": timezone.now(), "stale": False, "last_error": ""}
    newer, older = [], []
    for (city, _), observation in zip(readings, rows, strict=True):
        is_newer = city.latest is None or city.latest.observed_at <= observation.observed_at
        (newer if is_newer else older).append(city.pk)
        for name, value in fresh.items():
            setattr(city, name, value)
        if is_newer:
            city.latest = observation
    if newer:
        # Each city's row of this batch, by a subquery: Django's bulk_update costs 2 ms a city.
        this_batch = Observation.objects.filter(city=OuterRef("pk"), pk__in=[r.pk for r in rows])
        City.objects.filter(pk__in=newer).update(
            **fresh, latest=Subquery(this_batch.values("pk")[:1])
        )
    if older:
        City.objects.filter(pk__in=older).update(**fresh)
    return rows


def city_mark_stale(*, cities: Sequence[City], error: str) -> list[int]:
    """Mark cities whose refresh failed; returns those that were fresh until now.

    `last_refreshed_at` keeps the last success, so failed cities stay first in line.
    """
    ids = [city.pk for city in cities]
    became_stale = list(City.objects.filter(pk__in=ids, stale=False).values_list("pk", flat=True))
    City.objects.filter(pk__in=ids).update(stale=True, last_error=error[:300])
    for city in cities:
        city.stale = True
        city.last_error = error[:300]
    return became_stale


def _publish_on_commit(city_ids: list[int]) -> None:
    if city_ids:
        transaction.on_commit(lambda: publish_readings(city_ids))


def _mark_success() -> None:
    cache.set(LAST_SUCCESS_KEY, timezone.now().isoformat(), timeout=None)


# --- Planning -----------------------------------------------------------------------------


def refresh_interval() -> int:
    """The configured interval: the beat schedule's when beat drives refreshes, else the setting."""
    if settings.WEATHER_EMBEDDED_SCHEDULER or not settings.REDIS_URL:
        return settings.WEATHER_REFRESH_SECONDS
    from django_celery_beat.models import PeriodicTask

    task = (
        PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME, enabled=True)
        .select_related("interval")
        .first()
    )
    if task is None or task.interval is None:
        return settings.WEATHER_REFRESH_SECONDS
    return max(1, round(task.interval.schedule.run_every.total_seconds()))


def refresh_plan(
    *, followed: int, provider: WeatherProvider | None = None, interval: int | None = None
) -> RefreshPlan:
    """Fit `followed` cities into the budget: every window must pay for one cycle per interval.

    When it cannot, the effective interval is max(configured, cost of all cities * window /
    limit, over every window) and a cycle takes only the stalest cities the budget pays for.
    """
    provider = provider or get_provider()
    windows = budget_for(provider).windows
    batch = batch_size_within(provider, windows)
    interval = max(1, interval or refresh_interval())
    placeholder = Location(0, 0.0, 0.0)
    full_weight = provider.call_weight([placeholder] * batch)

    def cost(cities: int) -> int:
        full, rest = divmod(cities, batch)
        return full * full_weight + (provider.call_weight([placeholder] * rest) if rest else 0)

    needed = max(cost(followed) * w.get_expiry() / w.amount for w in windows)
    effective = max(interval, math.ceil(needed))
    per_cycle = followed
    if effective > interval:
        allowance = min(w.amount * interval / w.get_expiry() for w in windows)
        low, high = 0, followed
        while low < high:
            middle = (low + high + 1) // 2
            if cost(middle) <= allowance:
                low = middle
            else:
                high = middle - 1
        # At least one call a cycle (a whole batch when batches cost one call); the budget
        # itself then makes the cycle wait.
        floor = batch if cost(batch) == cost(1) else 1
        per_cycle = max(low, min(floor, followed))
    return RefreshPlan(
        followed=followed,
        per_cycle=per_cycle,
        batch_size=batch,
        calls_per_cycle=math.ceil(per_cycle / batch),
        interval_seconds=interval,
        effective_interval_seconds=effective,
    )


def cycle_cities(
    *, provider: WeatherProvider, everything: bool = False
) -> tuple[list[City], RefreshPlan]:
    """This cycle's cities, stalest first, as many as the budget pays for (or all of them)."""
    cities = followed_cities()
    plan = refresh_plan(followed=cities.count(), provider=provider)
    limit = plan.followed if everything else plan.per_cycle
    chosen = list(cities.select_related("latest")[:limit])
    previous = cache.get(LAST_CYCLE_KEY) or {}
    changed = previous.get("effective_interval_seconds") != plan.effective_interval_seconds
    # Said once when the stretch starts or changes, not every cycle.
    if plan.stretched and changed and not everything:
        logger.warning(
            "The %s budget (%s) cannot refresh %d cities every %d s: refreshing the %d stalest "
            "now, each city about every %d s",
            provider.name,
            provider_budget(provider),
            plan.followed,
            plan.interval_seconds,
            plan.per_cycle,
            plan.effective_interval_seconds,
        )
    cache.set(
        LAST_CYCLE_KEY,
        {"started_at": timezone.now().isoformat(), "cities": len(chosen), **asdict(plan)},
        timeout=None,
    )
    return chosen, plan


def cycle_max_wait(plan: RefreshPlan) -> float:
    return min(plan.interval_seconds, CYCLE_MAX_WAIT_SECONDS)


# --- Reading ------------------------------------------------------------------------------


def _refresh_batch(
    *,
    batch: list[City],
    provider: WeatherProvider,
    summary: RefreshSummary,
    max_wait: float | None,
    attempts: int | None,
) -> None:
    locations = [Location(city.pk, city.latitude, city.longitude) for city in batch]
    stats = CallStats()
    try:
        readings = provider_read(
            provider=provider,
            locations=locations,
            max_wait=max_wait,
            attempts=attempts,
            stats=stats,
        )
    except BudgetSpent as exc:
        # Not a failure: the cities keep their place at the head of the queue for next cycle.
        summary.deferred += len(batch)
        logger.info(
            "Budget spent for %.0f s; %d cities wait for the next cycle",
            exc.retry_after,
            len(batch),
        )
        return
    except ProviderError as exc:
        _batch_failed(batch=batch, summary=summary, message=exc.message)
        return
    except Exception:
        logger.exception("Reading %d cities from %s failed unexpectedly", len(batch), provider.name)
        _batch_failed(
            batch=batch, summary=summary, message="The weather provider sent an unexpected answer."
        )
        return
    finally:
        summary.calls += stats.calls
        summary.waited += stats.waited
    with transaction.atomic():
        stored = observations_store(
            readings=[(city, readings[city.pk]) for city in batch if city.pk in readings],
            provider=provider.name,
        )
        missing = [city for city in batch if city.pk not in readings]
        if missing:
            city_mark_stale(cities=missing, error=NO_READING)
            summary.errors.append(NO_READING)
        _publish_on_commit([city.pk for city in batch])
    summary.stored += len(stored)
    summary.failures += len(missing)
    if stored:
        _mark_success()


def _batch_failed(*, batch: list[City], summary: RefreshSummary, message: str) -> None:
    summary.failures += len(batch)
    summary.errors.append(message)
    with transaction.atomic():
        _publish_on_commit(city_mark_stale(cities=batch, error=message))


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
            batch=batch,
            provider=provider,
            summary=summary,
            max_wait=max_wait,
            attempts=attempts,
        )
        if progress:
            progress(len(batch), len(todo))
    summary.seconds = time.monotonic() - started
    return summary


# --- Cycles -------------------------------------------------------------------------------


def _keep_lock(lock, stop: threading.Event) -> None:
    while not stop.wait(CYCLE_LOCK_SECONDS / 3):
        try:
            lock.reacquire()
        except LockError:
            logger.error("The refresh cycle lock was lost; another cycle may start")
            return


@contextmanager
def refresh_cycle_lock() -> Iterator[bool]:
    """Yields True to the only cycle allowed to run now (Redis lock, or a lock in this process)."""
    client = shared_redis()
    if client is None:
        held = _local_cycle_lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                _local_cycle_lock.release()
        return
    lock = client.lock(CYCLE_LOCK_KEY, timeout=CYCLE_LOCK_SECONDS, thread_local=False)
    if not lock.acquire(blocking=False):
        yield False
        return
    stop = threading.Event()
    heartbeat = threading.Thread(target=_keep_lock, args=(lock, stop), daemon=True)
    heartbeat.start()
    try:
        yield True
    finally:
        stop.set()
        heartbeat.join()
        with suppress(LockError):
            lock.release()


def refresh_followed_cities(
    *, progress: Progress | None = None, everything: bool = False
) -> RefreshSummary:
    """One cycle, in this process: the stalest followed cities the budget pays for (or all of
    them with `everything`), each once however many follow it; skipped while another runs."""
    with refresh_cycle_lock() as held:
        if not held:
            logger.info("A refresh cycle is already running; skipping this one")
            return RefreshSummary(skipped=True)
        provider = get_provider()
        cities, plan = cycle_cities(provider=provider, everything=everything)
        summary = refresh_cities(
            cities,
            progress=progress,
            provider=provider,
            max_wait=None if everything else cycle_max_wait(plan),
            attempts=None,
        )
        if not cities:
            _mark_success()
        return summary


def _pending_batches() -> int:
    client = shared_redis()
    if client is None:
        with _local_pending_lock:
            if _local_pending["expires_at"] < time.monotonic():
                return 0
            return _local_pending["count"]
    return int(client.get(PENDING_KEY) or 0)


def pending_lease_seconds() -> float:
    return getattr(settings, "WEATHER_PENDING_LEASE_SECONDS", PENDING_LEASE_SECONDS)


def _set_pending_batches(count: int, *, ttl: float) -> None:
    client = shared_redis()
    if client is None:
        with _local_pending_lock:
            _local_pending.update(count=count, expires_at=time.monotonic() + ttl)
        return
    if count:
        client.set(PENDING_KEY, count, px=math.ceil(ttl * 1000))
    else:
        client.delete(PENDING_KEY)


def _renew_pending(ttl: float) -> None:
    """Extend the pending batches' lease (nothing when it has already lapsed)."""
    client = shared_redis()
    if client is None:
        with _local_pending_lock:
            now = time.monotonic()
            if _local_pending["expires_at"] >= now:
                _local_pending["expires_at"] = max(_local_pending["expires_at"], now + ttl)
        return
    client.pexpire(PENDING_KEY, math.ceil(ttl * 1000))


def _keep_pending(ttl: float, stop: threading.Event) -> None:
    while not stop.wait(ttl / 3):
        try:
            _renew_pending(ttl)
        except RedisError:
            logger.warning("Could not renew the pending batches' lease", exc_info=True)


@contextmanager
def pending_lease_kept() -> Iterator[None]:
    """While a batch task runs, its cycle's batches stay pending for the next beat tick."""
    ttl = pending_lease_seconds()
    _renew_pending(ttl)
    stop = threading.Event()
    heartbeat = threading.Thread(target=_keep_pending, args=(ttl, stop), daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        stop.set()
        heartbeat.join()


def _batch_finished() -> None:
    client = shared_redis()
    if client is None:
        with _local_pending_lock:
            _local_pending["count"] = max(0, _local_pending["count"] - 1)
        return
    if client.decr(PENDING_KEY) <= 0:
        client.delete(PENDING_KEY)


def refresh_fan_out(*, enqueue: Callable[[list[int], str], object]) -> int:
    """Beat's cycle: cut this cycle's cities into batches and hand each to `enqueue`; returns
    how many. Skipped while another fan-out runs or the previous cycle's batches are pending."""
    with refresh_cycle_lock() as held:
        if not held:
            logger.info("Another refresh fan-out is running; skipping this one")
            return 0
        pending = _pending_batches()
        if pending > 0:
            logger.info("%d batches of the previous cycle are still pending; skipping", pending)
            return 0
        provider = get_provider()
        cities, plan = cycle_cities(provider=provider)
        batches = list(batched([city.pk for city in cities], plan.batch_size))
        _set_pending_batches(len(batches), ttl=pending_lease_seconds())
        enqueued_at = timezone.now().isoformat()
        for city_ids in batches:
            enqueue(city_ids, enqueued_at)
        if not batches:
            _mark_success()
        logger.info("Queued %d cities in %d batches", len(cities), len(batches))
        return len(batches)


def city_batch_refresh(*, city_ids: list[int], enqueued_at: str | None = None) -> RefreshSummary:
    """One queued batch: the cities still followed and not refreshed since `enqueued_at`, so a
    duplicated or redelivered task calls nobody twice."""
    try:
        with pending_lease_kept():
            cities = followed_cities().filter(pk__in=city_ids)
            if enqueued_at:
                since = dt.datetime.fromisoformat(enqueued_at)
                cities = cities.exclude(last_refreshed_at__gte=since)
            max_wait = min(refresh_interval(), CYCLE_MAX_WAIT_SECONDS)
            return refresh_cities(cities, max_wait=max_wait, attempts=None)
    finally:
        _batch_finished()


# --- On demand ----------------------------------------------------------------------------


def city_refresh_now(*, city: City) -> Observation:
    """Read one city now (the API's refresh): Throttled when the budget is spent for more than
    a moment, ProviderUnavailable when the provider fails or its circuit is open."""
    provider = get_provider()
    location = Location(city.pk, city.latitude, city.longitude)
    try:
        readings = provider_read(
            provider=provider, locations=[location], max_wait=API_MAX_WAIT_SECONDS, attempts=1
        )
    except BudgetSpent as exc:
        raise Throttled(
            "The weather provider's budget is spent for now; try again shortly.",
            retry_after=math.ceil(exc.retry_after),
        ) from None
    except CircuitOpen as exc:
        raise ProviderUnavailable(exc.message) from None
    except ProviderError as exc:
        with transaction.atomic():
            _publish_on_commit(city_mark_stale(cities=[city], error=exc.message))
        if exc.retry_after:
            raise Throttled(exc.message, retry_after=math.ceil(exc.retry_after)) from None
        raise ProviderUnavailable(exc.message) from None
    if city.pk not in readings:
        with transaction.atomic():
            _publish_on_commit(city_mark_stale(cities=[city], error=NO_READING))
        raise ProviderUnavailable(NO_READING)
    with transaction.atomic():
        observation = observation_store(
            city=city, reading=readings[city.pk], provider=provider.name
        )
        _publish_on_commit([city.pk])
    return observation


# --- Status -------------------------------------------------------------------------------


def circuit_open_seconds(provider: WeatherProvider) -> int | None:
    """Seconds until the provider's circuit closes; None when Redis cannot say."""
    try:
        return math.ceil(breaker_for(provider.name).open_for())
    except RedisError:
        return None


def refresh_status() -> dict:
    """What the scheduler last did and how often each city comes round, for /readyz and admin."""
    provider = get_provider()
    plan = refresh_plan(followed=followed_cities().count(), provider=provider)
    return {
        "last_success_at": cache.get(LAST_SUCCESS_KEY),
        "last_cycle_at": (cache.get(LAST_CYCLE_KEY) or {}).get("started_at"),
        "interval_seconds": plan.interval_seconds,
        "effective_interval_seconds": plan.effective_interval_seconds,
        "stretched": plan.stretched,
        "followed_cities": plan.followed,
        "cities_per_cycle": plan.per_cycle,
        "provider": provider.name,
        "budget": provider_budget(provider),
        "circuit_open_seconds": circuit_open_seconds(provider),
        "mode": "embedded" if settings.WEATHER_EMBEDDED_SCHEDULER else "celery",
    }
