"""Writes of alert rules (within the plan's limit) and of the browsers Web Push reaches."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from billing.quotas import alert_quota_check
from notifications.models import OK, Alert, PushSubscription
from notifications.rules import rule_clean
from notifications.webpush import push_endpoint_check, push_keys_clean
from skywatch.errors import InvalidInput, NotFound
from subscriptions.selectors import subscription_get


def _subscription_id(body) -> int:
    value = body.get("subscription") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidInput(
            "subscription is the id of one of your subscriptions.", field="subscription"
        )
    return value


def alert_create(*, user, body: dict) -> Alert:
    """A new rule on one of the caller's cities, within the plan's alert limit: the count and
    the insert share one transaction holding the account's row lock."""
    if not isinstance(body, dict):
        raise InvalidInput("Send a JSON object.")
    subscription_id = _subscription_id(body)
    fields = rule_clean(body, units=user.units)
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().select_related("plan").get(pk=user.pk)
        subscription = subscription_get(user=locked, subscription_id=subscription_id)
        alert_quota_check(plan=locked.plan, used=Alert.objects.filter(user=locked).count())
        return Alert.objects.create(user=locked, subscription=subscription, **fields)


@transaction.atomic
def alert_update(*, user, alert_id: int, body: dict) -> Alert:
    """Change any writable field; the rule re-arms (state ok) so it can fire on the new terms."""
    alert = Alert.objects.select_for_update().filter(user=user, pk=alert_id).first()
    if alert is None:
        raise NotFound("No such alert.")
    if isinstance(body, dict) and body.get("subscription", alert.subscription_id) != (
        alert.subscription_id
    ):
        raise InvalidInput("An alert stays on its city.", field="subscription")
    fields = rule_clean(body, units=user.units, current=alert)
    for name, value in fields.items():
        setattr(alert, name, value)
    alert.state = OK
    alert.save()
    return alert


def alert_delete(*, user, alert_id: int) -> None:
    deleted, _ = Alert.objects.filter(user=user, pk=alert_id).delete()
    if not deleted:
        raise NotFound("No such alert.")


def push_subscription_save(*, user, body) -> tuple[PushSubscription, bool]:
    """Remember a browser's PushSubscription.toJSON(); the same endpoint again is the same row
    (moved to this account if another one had it). Returns (row, created)."""
    if not isinstance(body, dict):
        raise InvalidInput("Send the browser's PushSubscription as JSON.")
    endpoint = body.get("endpoint")
    push_endpoint_check(endpoint)
    p256dh, auth = push_keys_clean(body.get("keys"))
    with transaction.atomic():
        row, created = PushSubscription.objects.select_for_update().get_or_create(
            endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
        )
        if not created:
            row.user, row.p256dh, row.auth = user, p256dh, auth
            row.save(update_fields=["user", "p256dh", "auth"])
    return row, created


def push_subscription_delete(*, user, push_id: int) -> None:
    deleted, _ = PushSubscription.objects.filter(user=user, pk=push_id).delete()
    if not deleted:
        raise NotFound("No such push subscription.")
