"""How followed cities fit the provider's budget: the interval, how many cities a cycle takes,
which ones (stalest first), which forecasts are due, and the status /readyz and the admin show.

Readings come first: forecasts get what the budget has left after them, and their interval
stretches (and says so) when that is not enough."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import RedisError

from subscriptions.models import City
from subscriptions.selectors import followed_cities
from weather_provider import FORECAST, WeatherProvider, get_provider
from weather_provider.breaker import breaker_for
from weather_provider.limiter import batch_size_for, batches_weight, budget_for, provider_budget

logger = logging.getLogger(__name__)

LAST_SUCCESS_KEY = "skywatch:refresh:last_success"
LAST_CYCLE_KEY = "skywatch:refresh:last_cycle"
PERIODIC_TASK_NAME = "refresh followed cities"
PERIODIC_TASK = "subscriptions.tasks.refresh_followed_cities_task"
# A batch waits at most this long for budget inside a scheduled cycle, then the next cycle has it.
CYCLE_MAX_WAIT_SECONDS = 900


@dataclass(frozen=True)
class RefreshPlan:
    """How followed cities fit the budget: how many per cycle, and how often each comes round."""

    followed: int
    per_cycle: int
    batch_size: int
    calls_per_cycle: int
    interval_seconds: int
    effective_interval_seconds: int
    forecast_interval_seconds: int = 3600
    effective_forecast_interval_seconds: int = 3600
    forecasts_per_cycle: int = 0

    @property
    def stretched(self) -> bool:
        return self.effective_interval_seconds > self.interval_seconds

    @property
    def forecast_stretched(self) -> bool:
        return self.effective_forecast_interval_seconds > self.forecast_interval_seconds

    @property
    def max_wait(self) -> float:
        """How long a batch of this cycle may wait for budget before the next cycle has it."""
        return min(self.interval_seconds, CYCLE_MAX_WAIT_SECONDS)


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
    *,
    followed: int,
    provider: WeatherProvider | None = None,
    interval: int | None = None,
    forecast_interval: int | None = None,
) -> RefreshPlan:
    """Fit `followed` cities into the budget: every window must pay for one cycle per interval.

    When it cannot, the effective interval is max(configured, cost of all cities * window /
    limit, over every window) and a cycle takes only the stalest cities the budget pays for.
    Forecasts get what is left: as many a cycle as that pays for, and their interval stretches
    to max(configured, followed * interval / forecasts a cycle).
    """
    provider = provider or get_provider()
    windows = budget_for(provider).windows
    batch = batch_size_for(provider)
    interval = max(1, interval or refresh_interval())
    if forecast_interval is None:
        forecast_interval = settings.FORECAST_REFRESH_SECONDS

    def cost(cities: int) -> int:
        return batches_weight(provider, cities, batch_size=batch)

    needed = max(cost(followed) * w.get_expiry() / w.amount for w in windows)
    effective = max(interval, math.ceil(needed))
    allowance = min(w.amount * interval / w.get_expiry() for w in windows)
    per_cycle = followed
    if effective > interval:
        # At least one call a cycle (a whole batch when batches cost one call); the budget
        # itself then makes the cycle wait.
        floor = batch if cost(batch) == cost(1) else 1
        per_cycle = max(_most_within(cost, followed, allowance), min(floor, followed))
    forecast_batch = batch_size_for(provider, kind=FORECAST)

    def forecast_cost(cities: int) -> int:
        return batches_weight(provider, cities, batch_size=forecast_batch, kind=FORECAST)

    # What the readings leave of the allowance pays for forecasts; at least one a cycle, so they
    # keep coming (after the readings, waiting for budget like them). 0 turns forecasts off.
    forecasts, effective_forecast = 0, max(0, forecast_interval)
    if forecast_interval > 0:
        forecasts = max(1, _most_within(forecast_cost, followed, allowance - cost(per_cycle)))
        forecasts = min(forecasts, followed)
        if followed and forecasts * forecast_interval < followed * interval:
            effective_forecast = math.ceil(followed * interval / forecasts)
    return RefreshPlan(
        followed=followed,
        per_cycle=per_cycle,
        batch_size=batch,
        calls_per_cycle=math.ceil(per_cycle / batch),
        interval_seconds=interval,
        effective_interval_seconds=effective,
        forecast_interval_seconds=forecast_interval,
        effective_forecast_interval_seconds=effective_forecast,
        forecasts_per_cycle=forecasts,
    )


def forecasts_enabled() -> bool:
    """FORECAST_REFRESH_SECONDS=0 turns forecasts off (no forecast calls, no forecasts shown)."""
    return settings.FORECAST_REFRESH_SECONDS > 0


def _most_within(cost, most: int, allowance: float) -> int:
    """The largest count up to `most` whose `cost` fits `allowance` (0 when none does)."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if cost(middle) <= allowance:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass
class CycleWork:
    """A cycle's cities to read and forecasts to fetch, and the plan they came from."""

    plan: RefreshPlan
    cities: list[City] = field(default_factory=list)
    forecasts: list[City] = field(default_factory=list)


def cycle_work(
    *,
    provider: WeatherProvider,
    everything: bool = False,
    readings: bool = True,
    forecasts: bool = True,
) -> CycleWork:
    """This cycle's readings (stalest first, as many as the budget pays for) and its due
    forecasts (none or older than the effective forecast interval, oldest first); with
    `everything`, every followed city's."""
    cities, plan = cycle_cities(provider=provider, everything=everything, record=readings)
    work = CycleWork(plan=plan, cities=cities if readings else [])
    if forecasts and forecasts_enabled():
        due = followed_cities().order_by(F("forecast__fetched_at").asc(nulls_first=True), "id")
        if not everything:
            since = timezone.now() - dt.timedelta(seconds=plan.effective_forecast_interval_seconds)
            due = due.filter(Q(forecast__isnull=True) | Q(forecast__fetched_at__lt=since))
            due = due[: plan.forecasts_per_cycle]
        work.forecasts = list(due.select_related("latest"))
    return work


def cycle_cities(
    *, provider: WeatherProvider, everything: bool = False, record: bool = True
) -> tuple[list[City], RefreshPlan]:
    """This cycle's cities, stalest first, as many as the budget pays for (or all of them)."""
    cities = followed_cities()
    plan = refresh_plan(followed=cities.count(), provider=provider)
    limit = plan.followed if everything else plan.per_cycle
    chosen = list(cities.select_related("latest")[:limit])
    previous = cache.get(LAST_CYCLE_KEY) or {}
    changed = previous.get("effective_interval_seconds") != plan.effective_interval_seconds
    # Said once when the stretch starts or changes, not every cycle.
    if plan.stretched and changed and not everything and record:
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
    if not record:
        return chosen, plan
    cache.set(
        LAST_CYCLE_KEY,
        {"started_at": timezone.now().isoformat(), "cities": len(chosen), **asdict(plan)},
        timeout=None,
    )
    return chosen, plan


def refresh_success_mark() -> None:
    cache.set(LAST_SUCCESS_KEY, timezone.now().isoformat(), timeout=None)


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
        "forecast_interval_seconds": plan.forecast_interval_seconds,
        "effective_forecast_interval_seconds": plan.effective_forecast_interval_seconds,
        "forecast_stretched": plan.forecast_stretched,
        "forecasts_per_cycle": plan.forecasts_per_cycle,
        "followed_cities": plan.followed,
        "cities_per_cycle": plan.per_cycle,
        "provider": provider.name,
        "budget": provider_budget(provider),
        "circuit_open_seconds": circuit_open_seconds(provider),
        "mode": "embedded" if settings.WEATHER_EMBEDDED_SCHEDULER else "celery",
    }
