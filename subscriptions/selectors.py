"""Reads of subscriptions and cities; every tenant read takes the user."""

from __future__ import annotations

from django.db.models import F, QuerySet

from subscriptions.models import City, Subscription
from subscriptions.readings import city_as_dict, latest_reading_as_dict


def subscriptions_for(*, user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user).select_related("city", "city__latest")


def subscription_get(*, user, subscription_id: int) -> Subscription | None:
    return subscriptions_for(user=user).filter(pk=subscription_id).first()


def subscription_as_dict(subscription: Subscription, *, units: str) -> dict:
    return {
        "id": subscription.pk,
        "city": city_as_dict(subscription.city),
        "created_at": subscription.created_at.isoformat().replace("+00:00", "Z"),
        "paused": subscription.paused,
        "latest": latest_reading_as_dict(subscription.city, units=units),
    }


def subscription_list_as_dicts(*, user) -> list[dict]:
    return [subscription_as_dict(s, units=user.units) for s in subscriptions_for(user=user)]


def subscription_count(*, user) -> int:
    return Subscription.objects.filter(user=user).count()


def followed_cities() -> QuerySet[City]:
    """Cities that at least one unpaused subscription follows, each once, stalest first."""
    return (
        City.objects.filter(subscriptions__paused=False)
        .distinct()
        .order_by(F("last_refreshed_at").asc(nulls_first=True), "id")
    )
