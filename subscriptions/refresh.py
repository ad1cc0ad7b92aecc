"""The refresh pipeline: followed cities, deduplicated and batched, read, stored and pushed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from notifications.publish import publish_readings
from skywatch.errors import ProviderUnavailable
from subscriptions.models import City, Observation
from subscriptions.selectors import followed_cities
from weather_provider import Location, ProviderError, Reading, get_provider

logger = logging.getLogger(__name__)

LAST_SUCCESS_KEY = "skywatch:refresh:last_success"


@dataclass
class RefreshSummary:
    cities: int = 0
    calls: int = 0
    stored: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def batched(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def observation_store(*, city: City, reading: Reading, provider: str) -> Observation:
    """Upsert one reading (unique per city and time) and make it the city's latest."""
    values = reading.as_dict()
    observed_at = values.pop("observed_at")
    observation, _ = Observation.objects.update_or_create(
        city=city, observed_at=observed_at, defaults={**values, "provider": provider}
    )
    now = timezone.now()
    newer = city.latest is None or city.latest.observed_at <= observed_at
    updates = {"last_refreshed_at": now, "stale": False, "last_error": ""}
    if newer:
        updates["latest"] = observation
    City.objects.filter(pk=city.pk).update(**updates)
    for name, value in updates.items():
        setattr(city, name, value)
    return observation


def city_mark_stale(*, cities: list[City], error: str) -> None:
    City.objects.filter(pk__in=[c.pk for c in cities]).update(
        stale=True, last_error=error[:300], last_refreshed_at=timezone.now()
    )
    for city in cities:
        city.stale = True


def refresh_cities(
    cities: Iterable[City], *, progress: Callable[[int], None] | None = None
) -> RefreshSummary:
    """Read and store the given cities batch by batch, publishing each stored batch."""
    started = time.monotonic()
    provider = get_provider()
    summary = RefreshSummary()
    todo = list(cities.select_related("latest") if hasattr(cities, "select_related") else cities)
    summary.cities = len(todo)
    for batch in batched(todo, provider.batch_size):
        locations = [Location(c.pk, c.latitude, c.longitude) for c in batch]
        summary.calls += 1
        try:
            readings = provider.current(locations)
        except ProviderError as exc:
            summary.failures += len(batch)
            summary.errors.append(exc.message)
            logger.warning("Refresh of %d cities failed: %s", len(batch), exc.message)
            city_mark_stale(cities=batch, error=exc.message)
            publish_readings([c.pk for c in batch])
            if progress:
                progress(len(batch))
            continue
        with transaction.atomic():
            stored = [
                observation_store(city=c, reading=readings[c.pk], provider=provider.name)
                for c in batch
                if c.pk in readings
            ]
            missing = [c for c in batch if c.pk not in readings]
            if missing:
                city_mark_stale(cities=missing, error="The provider returned no reading.")
            city_ids = [c.pk for c in batch]
            transaction.on_commit(lambda ids=city_ids: publish_readings(ids))
        summary.stored += len(stored)
        summary.failures += len(missing)
        if progress:
            progress(len(batch))
    summary.seconds = time.monotonic() - started
    return summary


def refresh_followed_cities(*, progress: Callable[[int], None] | None = None) -> RefreshSummary:
    """Refresh every city that an unpaused subscription follows, stalest first."""
    summary = refresh_cities(followed_cities(), progress=progress)
    cache.set(LAST_SUCCESS_KEY, timezone.now().isoformat(), timeout=None)
    return summary


def city_refresh_now(*, city: City) -> Observation:
    """Read one city now (the API's refresh); ProviderUnavailable when the provider fails."""
    refresh_cities([city])
    city.refresh_from_db()
    if city.stale or city.latest is None:
        raise ProviderUnavailable(city.last_error or "The weather provider did not answer.")
    return city.latest


def refresh_status() -> dict:
    """What the scheduler last did, for /readyz and the admin."""
    last = cache.get(LAST_SUCCESS_KEY)
    return {
        "last_success_at": last,
        "interval_seconds": settings.WEATHER_REFRESH_SECONDS,
        "effective_interval_seconds": settings.WEATHER_REFRESH_SECONDS,
    }
