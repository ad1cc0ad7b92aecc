"""Celery entry points of the refresh pipeline; thin: each calls one function in refresh.py."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from subscriptions import refresh, services


@shared_task(name="subscriptions.tasks.refresh_followed_cities_task", acks_late=True)
def refresh_followed_cities_task() -> int:
    """Beat's tick: queue this cycle's batches, one `city_batch_refresh_task` each."""
    return refresh.refresh_fan_out(
        enqueue=lambda city_ids, enqueued_at, kind: city_batch_refresh_task.delay(
            city_ids, enqueued_at, kind
        )
    )


# acks_late only because the task is idempotent: a redelivered batch skips what is fresh.
@shared_task(name="subscriptions.tasks.city_batch_refresh_task", acks_late=True)
def city_batch_refresh_task(
    city_ids: list[int], enqueued_at: str | None = None, kind: str = "current"
) -> int:
    """Read, store and publish one batch of cities (readings, forecasts or both) under the
    shared budget; returns what it stored."""
    summary = refresh.city_batch_refresh(city_ids=city_ids, enqueued_at=enqueued_at, kind=kind)
    return summary.stored + summary.forecasts_stored


@shared_task(name="subscriptions.tasks.observations_prune_task")
def observations_prune_task() -> int:
    """Delete readings older than OBSERVATION_RETENTION_DAYS; unset keeps every reading."""
    days = settings.OBSERVATION_RETENTION_DAYS
    if not days:
        return 0
    return services.observations_prune(older_than_days=days)
