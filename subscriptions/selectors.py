"""Reads of subscriptions and cities; every tenant read takes the user."""

from __future__ import annotations

import datetime as dt
import functools

from django.db.models import F, QuerySet

from skywatch.errors import InvalidInput, NotFound
from skywatch.sql import Joined
from skywatch.times import iso_z
from subscriptions.models import City, Forecast, Observation, SearchHistory, Subscription
from subscriptions.readings import city_as_dict, latest_reading_as_dict


def subscriptions_for(*, user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(user=user).select_related(
        "city", "city__latest", "city__forecast"
    )


def subscription_get(*, user, subscription_id: int) -> Subscription:
    """One of the caller's subscriptions; anyone else's, or none, is NotFound (404)."""
    subscription = subscriptions_for(user=user).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription


def city_followed(*, user, city_id: int) -> City | None:
    """The city if this user follows it (paused or not); anyone else's city is None."""
    subscription = subscriptions_for(user=user).filter(city_id=city_id).first()
    return subscription.city if subscription else None


def cities_followed_by(*, user) -> list[City]:
    """Every city the account follows, paused ones included, in the order they were followed."""
    return [subscription.city for subscription in subscriptions_for(user=user)]


def subscription_as_dict(subscription: Subscription, *, units: str) -> dict:
    return {
        "id": subscription.pk,
        "city": city_as_dict(subscription.city),
        "created_at": iso_z(subscription.created_at),
        "paused": subscription.paused,
        "latest": latest_reading_as_dict(subscription.city, units=units),
    }


def city_forecast(city: City) -> Forecast | None:
    """The city's stored forecast, or None when it has none yet."""
    try:
        return city.forecast
    except Forecast.DoesNotExist:
        return None


def subscription_list_as_dicts(*, user) -> list[dict]:
    """The account's subscriptions with their cities' latest readings, as the API lists them
    (the API list, the dashboard and every websocket's snapshot)."""
    return [
        subscription_as_dict(subscription, units=user.units)
        for subscription, _ in subscriptions_with_cities(user_id=user.pk)
    ]


def subscriptions_with_cities(
    *, user_id: int, forecasts: bool = False
) -> list[tuple[Subscription, Forecast | None]]:
    """The account's subscriptions in the order they were made, each with its city and the
    city's latest reading (and its forecast, or None), in one hand-written query (skywatch.sql):
    it runs for every API list, dashboard and websocket snapshot."""
    found = []
    for subscription, city, latest, *forecast in _subscription_list(forecasts).rows([user_id]):
        city.latest = latest
        subscription.city = city
        found.append((subscription, forecast[0] if forecast else None))
    return found


@functools.cache
def _subscription_list(forecasts: bool) -> Joined:
    """subscriptions_for(user), with the forecasts or without them, written once."""
    models = [(Subscription, "s"), (City, "c"), (Observation, "o")]
    tail = (
        f"FROM {Subscription._meta.db_table} s JOIN {City._meta.db_table} c ON c.id = s.city_id "
        f"LEFT JOIN {Observation._meta.db_table} o ON o.id = c.latest_id "
    )
    if forecasts:
        models.append((Forecast, "f"))
        tail += f"LEFT JOIN {Forecast._meta.db_table} f ON f.city_id = c.id "
    return Joined(models, tail + "WHERE s.user_id = %s ORDER BY s.created_at, s.id")


def subscription_count(*, user) -> int:
    return Subscription.objects.filter(user=user).count()


def followed_cities() -> QuerySet[City]:
    """Cities that at least one unpaused subscription follows, each once, stalest first."""
    return (
        City.objects.filter(subscriptions__paused=False)
        .distinct()
        .order_by(F("last_refreshed_at").asc(nulls_first=True), "id")
    )


PAGE_SIZES = {"10": 10, "30": 30, "all": None}
MAX_PAGE_NUMBER = 10**9


def search_history_for(*, user) -> QuerySet[SearchHistory]:
    """The caller's weather searches, newest first."""
    return SearchHistory.objects.filter(user=user).order_by("-timestamp", "-id")


def page_of(
    rows: QuerySet, *, per_page: str | None, page: str | None, noun: str
) -> tuple[int, list, int, bool]:
    """One page of `rows` as the API pages lists (`per_page=10|30|all`, `page` from 1):
    (count, rows of the page, page number, whether more follow); `noun` names the rows."""
    size_text = "10" if per_page is None else per_page
    if size_text not in PAGE_SIZES:
        raise InvalidInput("per_page is 10, 30 or all.", field="per_page")
    page_text = "1" if page is None else page
    if (
        not page_text.isascii()
        or not page_text.isdigit()
        or not 1 <= int(page_text) <= MAX_PAGE_NUMBER
    ):
        raise InvalidInput("page is a whole number from 1.", field="page")
    number, size = int(page_text), PAGE_SIZES[size_text]
    count = rows.count()
    if size is None:
        size = max(count, 1)
    if number > 1 and (number - 1) * size >= count:
        raise NotFound(f"There is no page {number}; there are {count} {noun}.")
    found = list(rows[(number - 1) * size : number * size])
    return count, found, number, number * size < count


def search_history_as_dict(entry: SearchHistory) -> dict:
    return {
        "id": entry.pk,
        "city_name": entry.city_name,
        "timestamp": iso_z(entry.timestamp),
    }


def observations_in(
    *, city: City, lower: dt.datetime | None, upper: dt.datetime | None
) -> QuerySet[Observation]:
    """A city's readings in [lower, upper), oldest first."""
    rows = Observation.objects.filter(city=city)
    if lower is not None:
        rows = rows.filter(observed_at__gte=lower)
    if upper is not None:
        rows = rows.filter(observed_at__lt=upper)
    return rows.order_by("observed_at")


def observations_between(
    *, city: City, lower: dt.datetime | None, upper: dt.datetime | None, limit: int
) -> list[Observation]:
    """A city's readings in [lower, upper), oldest first; the newest `limit` when there are more."""
    newest = list(observations_in(city=city, lower=lower, upper=upper).reverse()[:limit])
    newest.reverse()
    return newest


def subscriptions_export(user) -> list[dict]:
    """The account's subscriptions for 'export all my data' (as the API shows them)."""
    return subscription_list_as_dicts(user=user)


def search_history_export(user) -> list[dict]:
    """Every search of the account, newest first, for 'export all my data'."""
    return [search_history_as_dict(entry) for entry in search_history_for(user=user)]
