"""What a follower's open pages hear about their subscriptions, and who hears it.

Choosing recipients is a security decision made here, from the database: a user only ever hears
of cities they follow. Delivery is skywatch.events' job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from skywatch.events import notify_each, notify_users_on_commit
from subscriptions.forecasts import forecast_as_dict
from subscriptions.models import Observation, Subscription
from subscriptions.readings import READING_FIELDS, reading_as_dict
from subscriptions.selectors import (
    subscription_as_dict,
    subscriptions_with_cities,
)


def snapshot_events(*, user) -> list[dict]:
    """What a page needs to draw every card, from one query: the snapshot, then a `forecast`
    message with the stored forecasts of the unpaused cities when there are any (a socket
    that connects, the dashboard page, a units or plan change)."""
    now = timezone.now()
    listed, updates = [], []
    shown: dict[int, dict] = {}
    for subscription, forecast in subscriptions_with_cities(user_id=user.pk, forecasts=True):
        listed.append(subscription_as_dict(subscription, units=user.units))
        if forecast is None or subscription.paused:
            continue
        if forecast.pk not in shown:
            shown[forecast.pk] = forecast_as_dict(forecast, units=user.units, now=now)
        updates.append(
            {
                "subscription_id": subscription.pk,
                "city_id": subscription.city_id,
                "forecast": shown[forecast.pk],
            }
        )
    events = [{"type": "snapshot", "subscriptions": listed}]
    if updates:
        events.append({"type": "forecast", "updates": updates})
    return events


def snapshot_send_on_commit(*, user) -> None:
    """After commit, every open page takes the whole list again, then its forecasts."""
    for event in snapshot_events(user=user):
        notify_users_on_commit([user.pk], event)


def readings_publish_on_commit(city_ids: list[int]) -> None:
    if city_ids:
        transaction.on_commit(lambda: readings_publish(city_ids))


def forecasts_publish_on_commit(city_ids: list[int]) -> None:
    if city_ids:
        transaction.on_commit(lambda: forecasts_publish(city_ids))


def readings_publish(city_ids: Iterable[int]) -> int:
    """One `weather` message per follower with all of their refreshed, unpaused cities."""
    updates: dict[int, list[dict]] = defaultdict(list)
    # Plain columns, and each city's reading built once per units: a batch has hundreds of
    # followers but 100 cities (bench/fanout.py: model rows cost more than the sends).
    rows = (
        Subscription.objects.filter(city_id__in=list(city_ids), paused=False)
        .order_by("user_id", "created_at", "id")
        .values_list(
            "pk",
            "user_id",
            "city_id",
            "user__units",
            "city__stale",
            "city__latest_id",
            *(f"city__latest__{name}" for name in READING_FIELDS),
        )
    )
    readings: dict[tuple[int, str], dict] = {}
    for pk, user_id, city_id, units, stale, latest_id, *values in rows:
        if latest_id is None:
            continue
        reading = readings.get((city_id, units))
        if reading is None:
            latest = Observation(pk=latest_id, **dict(zip(READING_FIELDS, values, strict=True)))
            reading = readings[(city_id, units)] = reading_as_dict(latest, units=units, stale=stale)
        updates[user_id].append({"subscription_id": pk, "city_id": city_id, "reading": reading})
    notify_each(
        [(user_id, {"type": "weather", "updates": batch}) for user_id, batch in updates.items()]
    )
    return len(updates)


def forecasts_publish(city_ids: Iterable[int]) -> int:
    """One `forecast` message per follower with all of their unpaused cities' new forecasts."""
    subscriptions = Subscription.objects.filter(city_id__in=list(city_ids))
    updates = _forecast_updates(subscriptions)
    notify_each(
        [(user_id, {"type": "forecast", "updates": batch}) for user_id, batch in updates.items()]
    )
    return len(updates)


def _forecast_updates(subscriptions) -> dict[int, list[dict]]:
    """Each user's updates for `subscriptions` (unpaused, with a forecast), in one query; each
    city's forecast built once per units."""
    now = timezone.now()
    rows = (
        subscriptions.filter(paused=False, city__forecast__isnull=False)
        .order_by("user_id", "created_at", "id")
        .select_related("user", "city__forecast")
    )
    updates: dict[int, list[dict]] = defaultdict(list)
    shown: dict[tuple[int, str], dict] = {}
    for subscription in rows:
        units = subscription.user.units
        key = (subscription.city_id, units)
        if key not in shown:
            shown[key] = forecast_as_dict(subscription.city.forecast, units=units, now=now)
        updates[subscription.user_id].append(
            {
                "subscription_id": subscription.pk,
                "city_id": subscription.city_id,
                "forecast": shown[key],
            }
        )
    return updates


def snapshot_on_units_change(sender, *, user, **kwargs) -> None:
    """Units changed (skywatch.accounts.signals.units_changed): every open page redraws."""
    snapshot_send_on_commit(user=user)
