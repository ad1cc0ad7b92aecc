"""Evaluating a stored batch's alerts: in the batch's transaction, a fixed number of queries
however many alerts, edge-triggered (fire once, re-arm past a margin), delivered on commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from notifications.delivery import alert_events_deliver_on_commit
from notifications.models import CHANNELS, FIRING, OK, Alert, AlertEvent
from notifications.rules import event_message
from subscriptions.forecasts import hours_ahead
from subscriptions.measures import alert_margin
from subscriptions.models import Forecast

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """What one batch's evaluation did (the benchmark and the tests read it)."""

    alerts: int = 0
    fired: int = 0
    cleared: int = 0
    events: list[AlertEvent] | None = None


def _holds(alert: Alert, value: float) -> bool:
    return value > alert.threshold if alert.operator == "above" else value < alert.threshold


def _cleared(alert: Alert, value: float, units: str) -> bool:
    margin = alert_margin(alert.metric, units)
    if alert.operator == "above":
        return value <= alert.threshold - margin
    return value >= alert.threshold + margin


def _values(alert: Alert, forecasts: dict, now: dt.datetime) -> list[tuple[float, dt.datetime]]:
    """(value, time) pairs the rule looks at: the latest reading, or the forecast hours within
    `within_hours`, metric units; empty when there is nothing to judge."""
    city = alert.subscription.city
    if alert.source == "now":
        latest = city.latest
        value = getattr(latest, alert.metric, None) if latest is not None else None
        return [] if value is None else [(float(value), latest.observed_at)]
    forecast = forecasts.get(city.pk)
    if forecast is None:
        return []
    return [
        (float(hour[alert.metric]), dt.datetime.fromisoformat(hour["time"]))
        for hour in hours_ahead(forecast, now=now, hours=alert.within_hours or 1)
        if hour.get(alert.metric) is not None
    ]


def alerts_evaluate(*, city_ids: Sequence[int], now: dt.datetime | None = None) -> Evaluation:
    """Evaluate the enabled alerts of unpaused subscriptions to `city_ids`; must run inside the
    transaction that stored the batch. The alert rows are locked, so a concurrent copy of the
    batch waits and then sees them firing; (alert, firing) is unique, so none can fire twice."""
    now = now or timezone.now()
    alerts = list(
        Alert.objects.select_for_update(of=("self",))
        .filter(subscription__city_id__in=city_ids, subscription__paused=False, enabled=True)
        .select_related("subscription__city__latest", "user")
        .order_by("pk")
    )
    result = Evaluation(alerts=len(alerts), events=[])
    if not alerts:
        return result
    forecasts: dict = {}
    wanted = {a.subscription.city_id for a in alerts if a.source == "forecast"}
    if wanted:
        forecasts = {f.city_id: f for f in Forecast.objects.filter(city_id__in=wanted)}
    changed: list[Alert] = []
    fired: list[tuple[Alert, float, dt.datetime]] = []
    for alert in alerts:
        values = _values(alert, forecasts, now)
        if not values:
            continue
        if alert.state == OK:
            crossing = next(((v, t) for v, t in values if _holds(alert, v)), None)
            if crossing is not None:
                alert.state, alert.firings, alert.last_fired_at = FIRING, alert.firings + 1, now
                fired.append((alert, *crossing))
                changed.append(alert)
        elif all(_cleared(alert, v, alert.user.units) for v, _ in values):
            alert.state = OK
            changed.append(alert)
            result.cleared += 1
    if not changed:
        return result
    events = [_event(alert, value, for_time, now) for alert, value, for_time in fired]
    _channels_within_cap(events, now=now)
    try:
        with transaction.atomic():
            Alert.objects.bulk_update(changed, ["state", "firings", "last_fired_at"])
            AlertEvent.objects.bulk_create(events)
    except IntegrityError:
        # A copy of this batch fired these already (it holds no lock on SQLite): send nothing.
        logger.info("Alerts of cities %s were evaluated by another worker", list(city_ids)[:5])
        return Evaluation(alerts=len(alerts))
    result.fired, result.events = len(events), events
    alert_events_deliver_on_commit(events)
    return result


def _event(alert: Alert, value: float, for_time: dt.datetime, now: dt.datetime) -> AlertEvent:
    city = alert.subscription.city
    return AlertEvent(
        user=alert.user,
        alert=alert,
        firing=alert.firings,
        metric=alert.metric,
        operator=alert.operator,
        threshold=alert.threshold,
        typed_threshold=alert.typed_threshold,
        typed_units=alert.typed_units,
        value=value,
        source=alert.source,
        for_time=for_time,
        fired_at=now,
        message=event_message(
            city=city, alert=alert, value=value, for_time=for_time, units=alert.user.units
        ),
    )


def _channels_within_cap(events: list[AlertEvent], *, now: dt.datetime) -> None:
    """Choose each event's channels: the alert's, while the user has had fewer than
    ALERT_MAX_PER_HOUR on that channel in the last hour (one query for the whole batch)."""
    if not events:
        return
    cap = settings.ALERT_MAX_PER_HOUR
    recent = (
        AlertEvent.objects.filter(
            user_id__in={e.user_id for e in events}, fired_at__gt=now - dt.timedelta(hours=1)
        )
        .values("user_id")
        .annotate(**{c: Count("pk", filter=Q(**{f"send_{c}": True})) for c in CHANNELS})
    )
    used: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANNELS, 0))
    for row in recent:
        used[row["user_id"]] = {c: row[c] for c in CHANNELS}
    for event in events:
        counts = used[event.user_id]
        for channel in event.alert.channels:
            if channel in CHANNELS and counts[channel] < cap:
                counts[channel] += 1
                setattr(event, f"send_{channel}", True)


def batch_stored_receiver(sender, *, city_ids: Sequence[int], **kwargs) -> None:
    """The pipeline stored a batch: evaluate its alerts. A failure here is logged and rolled
    back to its savepoint, never a failed refresh."""
    try:
        with transaction.atomic():
            alerts_evaluate(city_ids=city_ids)
    except Exception:
        logger.exception("Evaluating the alerts of %d cities failed", len(city_ids))
