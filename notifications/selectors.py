"""Reads of alerts, their events and push subscriptions; every tenant read takes the user."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Alert, AlertEvent, PushSubscription
from notifications.rules import alert_as_dict, event_as_dict
from skywatch.errors import NotFound


def alerts_for(*, user) -> QuerySet[Alert]:
    return Alert.objects.filter(user=user).select_related("subscription__city")


def alert_get(*, user, alert_id: int) -> Alert:
    """One of the caller's alerts; anyone else's, or none, is NotFound (404)."""
    alert = alerts_for(user=user).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("No such alert.")
    return alert


def alert_list_as_dicts(*, user, city_id: int | None = None) -> list[dict]:
    rows = alerts_for(user=user)
    if city_id is not None:
        rows = rows.filter(subscription__city_id=city_id)
    return [alert_as_dict(alert, units=user.units) for alert in rows]


def alert_events_for(*, user, city_id: int | None = None) -> QuerySet[AlertEvent]:
    """The caller's alert events, newest first."""
    rows = AlertEvent.objects.filter(user=user).select_related("alert__subscription__city")
    if city_id is not None:
        rows = rows.filter(alert__subscription__city_id=city_id)
    return rows.order_by("-fired_at", "-id")


def alert_event_as_dict(event: AlertEvent, *, units: str) -> dict:
    return event_as_dict(event, units=units, city=event.alert.subscription.city)


def push_subscription_get(*, user, push_id: int) -> PushSubscription:
    found = PushSubscription.objects.filter(user=user, pk=push_id).first()
    if found is None:
        raise NotFound("No such push subscription.")
    return found


def alerts_export(user) -> list[dict]:
    """The account's alert rules for 'export all my data' (as the API shows them)."""
    return alert_list_as_dicts(user=user)


def alert_events_export(user) -> list[dict]:
    return [alert_event_as_dict(event, units=user.units) for event in alert_events_for(user=user)]
