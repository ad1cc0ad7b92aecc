"""How followed cities fit the provider's budget: the interval, how many cities a cycle takes,
which ones (stalest first), and the status /readyz and the admin show."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import RedisError

from subscriptions.models import City
from subscriptions.selectors import followed_cities
from weather_provider import Location, WeatherProvider, get_provider
from weather_provider.breaker import breaker_for
from weather_provider.limiter import batch_size_within, budget_for, provider_budget

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

    @property
    def stretched(self) -> bool:
        return self.effective_interval_seconds > self.interval_seconds

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
        "followed_cities": plan.followed,
        "cities_per_cycle": plan.per_cycle,
        "provider": provider.name,
        "budget": provider_budget(provider),
        "circuit_open_seconds": circuit_open_seconds(provider),
        "mode": "embedded" if settings.WEATHER_EMBEDDED_SCHEDULER else "celery",
    }
