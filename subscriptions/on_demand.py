"""Reading the weather now, for a person waiting: a weather search, refresh now, a forecast
when none is stored. A moment for budget and one attempt; failures become 429 or 503.

Nobody can spend everyone's budget: a reading fresh enough is served again, each account has
an allowance of calls an hour by plan (`Plan.on_demand_per_hour`), and on-demand calls leave
PROVIDER_SCHEDULER_RESERVE of every budget window to the scheduled refresh."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from skywatch.errors import CityNotFoundError, ProviderUnavailable, QuotaExceeded, Throttled
from subscriptions.events import forecasts_publish_on_commit, readings_publish_on_commit
from subscriptions.models import City, Forecast, Observation
from subscriptions.refresh import API_MAX_WAIT_SECONDS, NO_READING, BatchRead, read_batch
from subscriptions.selectors import city_forecast, subscription_get
from subscriptions.services import (
    city_mark_stale,
    city_resolve,
    clean_city_query,
    forecasts_store,
    observations_store,
    search_history_record,
)
from subscriptions.signals import batch_stored_send
from weather_provider import FORECAST, get_provider, limiter
from weather_provider.retry import CircuitOpen

# A reading fetched this recently is served again by a weather search, to spare the budget.
FRESH_READING_SECONDS = 600
# ...and by "refresh now": a minute-old reading is what a new call would bring.
FRESH_REFRESH_SECONDS = 60
NO_FORECAST = "The weather provider returned no forecast."


def city_refresh_now(*, city: City) -> Observation:
    """Read one city now (the API's refresh): Throttled when the budget is spent for more than
    a moment, ProviderUnavailable when the provider fails or its circuit is open."""
    provider = get_provider()
    read = read_batch(
        provider=provider,
        cities=[city],
        max_wait=API_MAX_WAIT_SECONDS,
        attempts=1,
        reserve=settings.PROVIDER_SCHEDULER_RESERVE,
    )
    _refuse_failed(read)
    if read.error is not None or city.pk not in read.readings:
        message = read.error.message if read.error is not None else NO_READING
        with transaction.atomic():
            readings_publish_on_commit(city_mark_stale(cities=[city], error=message))
        if read.error is not None and read.error.retry_after:
            raise Throttled(message, retry_after=math.ceil(read.error.retry_after))
        raise ProviderUnavailable(message)
    with transaction.atomic():
        (observation,) = observations_store(
            readings=[(city, read.readings[city.pk])], provider=provider.name
        )
        readings_publish_on_commit([city.pk])
        batch_stored_send([city.pk])
    return observation


def city_forecast_now(*, city: City) -> Forecast:
    """Read one city's forecast now (the API, when none is stored yet): Throttled when the
    budget is spent for more than a moment, ProviderUnavailable when the provider fails."""
    provider = get_provider()
    read = read_batch(
        provider=provider,
        cities=[city],
        kind=FORECAST,
        max_wait=API_MAX_WAIT_SECONDS,
        attempts=1,
        reserve=settings.PROVIDER_SCHEDULER_RESERVE,
    )
    _refuse_failed(read)
    if read.error is not None or city.pk not in read.forecasts:
        message = read.error.message if read.error is not None else NO_FORECAST
        if read.error is not None and read.error.retry_after:
            raise Throttled(message, retry_after=math.ceil(read.error.retry_after))
        raise ProviderUnavailable(message)
    with transaction.atomic():
        (forecast,) = forecasts_store(
            forecasts=[(city, read.forecasts[city.pk])], provider=provider.name
        )
        forecasts_publish_on_commit([city.pk])
        batch_stored_send([city.pk])
    return forecast


def allowance_spend(*, user) -> None:
    """Count one on-demand provider call against the account's hourly allowance; Throttled
    (429, with how long to wait) when it is used up."""
    per_hour = user.plan.on_demand_per_hour
    wait = limiter.allowance_spend(key=f"user:{user.pk}", per_hour=per_hour)
    if wait > 0:
        raise Throttled(
            f"Your {user.plan.name.lower()} plan reads the weather on demand {per_hour} times an "
            "hour; the cards still refresh on their own. Try again later.",
            retry_after=math.ceil(wait),
        )


def forecast_for(*, user, city: City) -> Forecast:
    """The city's stored forecast, or one fetched now from the caller's allowance."""
    forecast = city_forecast(city)
    if forecast is not None:
        return forecast
    allowance_spend(user=user)
    return city_forecast_now(city=city)


def _fresh(city: City, *, seconds: int) -> bool:
    since = timezone.now() - timedelta(seconds=seconds)
    return (
        city.latest is not None
        and not city.stale
        and city.last_refreshed_at is not None
        and city.last_refreshed_at >= since
    )


def _refuse_failed(read: BatchRead) -> None:
    """For a person waiting: a spent budget is 429, an open circuit 503."""
    if read.spent is not None:
        raise Throttled(
            "The weather provider's budget is spent for now; try again shortly.",
            retry_after=math.ceil(read.spent.retry_after),
        )
    if isinstance(read.error, CircuitOpen):
        raise ProviderUnavailable(read.error.message)


class SearchCityNotFound(CityNotFoundError):
    """A weather search for a place the provider does not know: nothing to show (404)."""

    status_code = 404


def weather_search(*, user, query: str | None) -> tuple[str, City, Observation]:
    """Current weather for a typed name, recorded in the caller's history once the name is valid;
    a reading fetched less than FRESH_READING_SECONDS ago is served again."""
    text = clean_city_query(query, field="city")
    search_history_record(user=user, city_name=text)
    try:
        city = city_resolve(query=text)
    except CityNotFoundError as exc:
        raise SearchCityNotFound(exc.message, field="city") from exc
    if _fresh(city, seconds=FRESH_READING_SECONDS):
        return text, city, city.latest
    allowance_spend(user=user)
    return text, city, city_refresh_now(city=city)


def subscription_refresh(*, user, subscription_id: int) -> Observation:
    """Read one of the caller's cities now, under the provider budget and the caller's allowance
    (a reading from the last minute is served as it is); paused ones are refused."""
    subscription = subscription_get(user=user, subscription_id=subscription_id)
    if subscription.paused:
        raise QuotaExceeded(
            "This city is paused: your plan's limit is reached. Remove a city or upgrade.",
        )
    if _fresh(subscription.city, seconds=FRESH_REFRESH_SECONDS):
        return subscription.city.latest
    allowance_spend(user=user)
    return city_refresh_now(city=subscription.city)
