"""What a follower's open pages hear about their subscriptions, and who hears it.

Choosing recipients is a security decision made here, from the database: a user only ever hears
of cities they follow. Delivery is skywatch.events' job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from skywatch.events import notify_each, notify_users_on_commit
from subscriptions.models import Observation, Subscription
from subscriptions.readings import READING_FIELDS, reading_as_dict
from subscriptions.selectors import subscription_list_as_dicts


def snapshot_event(*, user) -> dict:
    """Every subscription of the account as its pages show them (after connect, plan changes)."""
    return {"type": "snapshot", "subscriptions": subscription_list_as_dicts(user=user)}


def snapshot_send_on_commit(*, user) -> None:
    notify_users_on_commit([user.pk], snapshot_event(user=user))


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


def snapshot_on_units_change(sender, *, user, **kwargs) -> None:
    """Units changed (skywatch.accounts.signals.units_changed): every open page redraws."""
    snapshot_send_on_commit(user=user)
