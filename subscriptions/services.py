"""Writes about cities, subscriptions, readings and searches: resolving a typed city, following
and unfollowing within the plan, storing readings, pruning them, remembering searches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from billing.quotas import city_quota_check
from skywatch.errors import (
    AlreadySubscribed,
    CityNotFoundError,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
)
from skywatch.events import notify_users_on_commit
from subscriptions.events import snapshot_send_on_commit
from subscriptions.forecasts import forecast_row_values
from subscriptions.models import City, Forecast, Observation, SearchHistory, Subscription
from subscriptions.selectors import subscription_as_dict
from weather_provider import CityNotFound, Place, ProviderError, Reading, get_provider
from weather_provider import Forecast as ProviderForecast

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100


def clean_city_query(query: str | None, *, field: str = "city") -> str:
    """A typed city name, trimmed; blank or over-long names are refused."""
    text = (query or "").strip()
    if not text:
        raise InvalidInput("Type the name of a city.", field=field)
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"A city name has at most {MAX_QUERY_LENGTH} characters.", field=field)
    return text


def city_search(*, query: str, limit: int = 10) -> list[Place]:
    """Candidates for a typed name from the provider, most likely first."""
    text = clean_city_query(query, field="q")
    try:
        return get_provider().search(text, limit=limit)
    except ProviderError as exc:
        raise ProviderUnavailable(exc.message) from exc


def city_from_place(place: Place) -> City:
    city, _ = City.objects.get_or_create(
        name=place.name[:200],
        country=place.country.upper()[:2],
        admin1=place.admin1[:200],
        defaults={
            "latitude": place.latitude,
            "longitude": place.longitude,
            "timezone": place.timezone,
        },
    )
    return city


def city_resolve(*, query: str | None = None, key: str | None = None) -> City:
    """The city a typed name (its best match) or a search key stands for; it must exist."""
    provider = get_provider()
    try:
        if key:
            place = provider.lookup(str(key).strip())
        else:
            text = clean_city_query(query)
            candidates = provider.search(text, limit=1)
            if not candidates:
                raise CityNotFound(text)
            place = candidates[0]
    except CityNotFound as exc:
        raise CityNotFoundError(exc.message, field="key" if key else "city") from exc
    except ProviderError as exc:
        raise ProviderUnavailable(exc.message) from exc
    try:
        with transaction.atomic():
            return city_from_place(place)
    except IntegrityError:
        # Another request created the same city a moment ago.
        return city_from_place(place)


def subscription_create(*, user, query: str | None = None, key: str | None = None) -> Subscription:
    """Follow a city, within the plan's limit; the check and the insert share one transaction."""
    if not query and not key:
        raise InvalidInput("Type the name of a city.", field="city")
    city = city_resolve(query=query, key=key)
    with transaction.atomic():
        # The account row is the lock: parallel adds for one user queue here.
        locked = get_user_model().objects.select_for_update().select_related("plan").get(pk=user.pk)
        if Subscription.objects.filter(user=locked, city=city).exists():
            raise AlreadySubscribed(f"You already follow {city.label}.", field="city")
        used = Subscription.objects.filter(user=locked).count()
        city_quota_check(plan=locked.plan, used=used)
        subscription = Subscription.objects.create(user=locked, city=city)
        event = {
            "type": "subscription.added",
            "subscription": subscription_as_dict(subscription, units=locked.units),
        }
        notify_users_on_commit([locked.pk], event)
    transaction.on_commit(lambda: _first_reading(city.pk))
    return subscription


def _first_reading(city_id: int) -> None:
    """A new city gets its first reading (and forecast) now rather than at the next scheduled
    refresh; a city that has them already costs nothing."""
    # The pipeline stores through this module, so it is imported when first needed.
    from subscriptions.planning import forecasts_enabled
    from subscriptions.refresh import refresh_cities

    cities = City.objects.filter(pk=city_id)
    forecasts = cities.filter(forecast__isnull=True) if forecasts_enabled() else cities.none()
    try:
        refresh_cities(cities.filter(latest__isnull=True), forecasts=forecasts)
    except Exception:
        logger.exception("First reading of city %s failed; the scheduler will retry", city_id)


@transaction.atomic
def subscription_delete(*, user, subscription_id: int) -> None:
    """Unfollow; someone else's subscription is not found. Paused ones resume in order."""
    locked = get_user_model().objects.select_for_update().select_related("plan").get(pk=user.pk)
    deleted, _ = Subscription.objects.filter(user=locked, pk=subscription_id).delete()
    if not deleted:
        raise NotFound("No such subscription.")
    resumed = subscriptions_fit_plan(user=locked)
    # The id as a number whatever the caller passed (URL captures are strings).
    event = {"type": "subscription.removed", "id": int(subscription_id)}
    notify_users_on_commit([locked.pk], event)
    if resumed:
        # A resumed city changes its card too; tabs take the whole list, as after a plan change.
        snapshot_send_on_commit(user=locked)


def subscriptions_fit_plan(*, user) -> list[int]:
    """Pause the newest subscriptions over the plan's limit, resume the others; changed ids."""
    limit = user.plan.city_limit
    changed: list[int] = []
    for position, subscription in enumerate(Subscription.objects.filter(user=user)):
        paused = position >= limit
        if subscription.paused != paused:
            Subscription.objects.filter(pk=subscription.pk).update(paused=paused)
            changed.append(subscription.pk)
    return changed


def subscriptions_refit(*, user, **signal) -> None:
    """On `plan_changed`: pause or resume cities to fit; the tabs then take the whole list."""
    if subscriptions_fit_plan(user=user):
        snapshot_send_on_commit(user=user)


# --- Readings -----------------------------------------------------------------------------

# What a new reading overwrites when its (city, observed_at) row already exists.
OBSERVATION_UPDATE_FIELDS = [
    *(name for name in Reading.__dataclass_fields__ if name != "observed_at"),
    "provider",
]


def observations_store(
    *, readings: Sequence[tuple[City, Reading]], provider: str
) -> list[Observation]:
    """Upsert a batch's readings (unique per city and time) and make each its city's latest
    when it is newer: three queries however many cities (bench/budget.py measured 7 a city)."""
    if not readings:
        return []
    rows = [
        Observation(city=city, provider=provider, **reading.as_dict()) for city, reading in readings
    ]
    # An existing (city, observed_at) row is updated in place, so a retried batch adds nothing.
    Observation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["city", "observed_at"],
        update_fields=OBSERVATION_UPDATE_FIELDS,
    )
    fresh = {"last_refreshed_at": timezone.now(), "stale": False, "last_error": ""}
    newer, older = [], []
    for (city, _), observation in zip(readings, rows, strict=True):
        is_newer = city.latest is None or city.latest.observed_at <= observation.observed_at
        (newer if is_newer else older).append(city.pk)
        for name, value in fresh.items():
            setattr(city, name, value)
        if is_newer:
            city.latest = observation
    if newer:
        # Each city's row of this batch, by a subquery: Django's bulk_update costs 2 ms a city.
        this_batch = Observation.objects.filter(city=OuterRef("pk"), pk__in=[r.pk for r in rows])
        City.objects.filter(pk__in=newer).update(
            **fresh, latest=Subquery(this_batch.values("pk")[:1])
        )
    if older:
        City.objects.filter(pk__in=older).update(**fresh)
    return rows


def forecasts_store(
    *, forecasts: Sequence[tuple[City, ProviderForecast]], provider: str
) -> list[Forecast]:
    """Make each forecast its city's latest, replacing the one before: one query a batch."""
    if not forecasts:
        return []
    fetched_at = timezone.now()
    rows = [
        Forecast(city=city, provider=provider, fetched_at=fetched_at, **forecast_row_values(f))
        for city, f in forecasts
    ]
    for row, (city, _) in zip(rows, forecasts, strict=True):
        # The city's own time zone (from geocoding) when the provider names none.
        row.timezone = row.timezone or city.timezone
    Forecast.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["city"],
        update_fields=[
            "provider",
            "issued_at",
            "fetched_at",
            "timezone",
            "utc_offset_seconds",
            "step_hours",
            "hourly",
            "daily",
        ],
    )
    return rows


def city_mark_stale(*, cities: Sequence[City], error: str) -> list[int]:
    """Mark cities whose refresh failed; returns those that were fresh until now.

    `last_refreshed_at` keeps the last success, so failed cities stay first in line.
    """
    ids = [city.pk for city in cities]
    became_stale = list(City.objects.filter(pk__in=ids, stale=False).values_list("pk", flat=True))
    City.objects.filter(pk__in=ids).update(stale=True, last_error=error[:300])
    for city in cities:
        city.stale = True
        city.last_error = error[:300]
    return became_stale


def observations_prune(*, older_than_days: int, batch_size: int = 5000) -> int:
    """Delete readings observed more than `older_than_days` ago, except each city's latest."""
    if older_than_days < 1:
        raise InvalidInput("Keep readings for at least one day.", field="older_than_days")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    old = Observation.objects.filter(observed_at__lt=cutoff).exclude(
        pk__in=City.objects.filter(latest__isnull=False).values("latest_id")
    )
    deleted = 0
    # Small batches keep each transaction (and its locks) short on a big table.
    while ids := list(old.values_list("pk", flat=True)[:batch_size]):
        count, _ = Observation.objects.filter(pk__in=ids).delete()
        deleted += count
    return deleted


def search_history_record(*, user, city_name: str) -> SearchHistory:
    """Remember one search as typed (already trimmed and validated)."""
    return SearchHistory.objects.create(user=user, city_name=city_name)


def search_history_clear(*, user) -> int:
    """Forget the caller's searches, and nobody else's."""
    deleted, _ = SearchHistory.objects.filter(user=user).delete()
    return deleted
