"""Writes about cities and subscriptions: resolving a typed city, following, unfollowing."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.publish import notify_users
from skywatch.accounts.models import new_share_token
from skywatch.errors import (
    AlreadySubscribed,
    CityNotFoundError,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
    QuotaExceeded,
)
from subscriptions.models import City, Observation, SearchHistory, Subscription
from subscriptions.selectors import subscription_as_dict, subscription_get
from weather_provider import CityNotFound, Place, ProviderError, get_provider

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
        limit = locked.plan.city_limit
        if Subscription.objects.filter(user=locked).count() >= limit:
            raise QuotaExceeded(
                f"Your {locked.plan.name.lower()} plan allows {limit} "
                f"{'city' if limit == 1 else 'cities'}. Remove one or upgrade to follow more.",
                field="city",
            )
        subscription = Subscription.objects.create(user=locked, city=city)
        event = {
            "type": "subscription.added",
            "subscription": subscription_as_dict(subscription, units=locked.units),
        }
        transaction.on_commit(lambda: notify_users([locked.pk], event))
    if city.latest_id is None:
        transaction.on_commit(lambda: _first_reading(city.pk))
    return subscription


def _first_reading(city_id: int) -> None:
    """A new city gets its first reading now rather than at the next scheduled refresh."""
    from subscriptions.refresh import refresh_cities

    try:
        refresh_cities(City.objects.filter(pk=city_id, latest__isnull=True))
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
    transaction.on_commit(lambda: notify_users([locked.pk], event))
    if resumed:
        from subscriptions.selectors import subscription_list_as_dicts

        # A resumed city changes its card too; tabs take the whole list, as after a plan change.
        snapshot = {"type": "snapshot", "subscriptions": subscription_list_as_dicts(user=locked)}
        transaction.on_commit(lambda: notify_users([locked.pk], snapshot))


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


def share_token_rotate(*, user) -> str:
    """Give the account a new share token; pages behind the old link answer 404 at once."""
    token = new_share_token()
    get_user_model().objects.filter(pk=user.pk).update(share_token=token)
    user.share_token = token
    return token


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


# A reading fetched this recently is served again by a weather search, to spare the budget.
FRESH_READING_SECONDS = 600


class SearchCityNotFound(CityNotFoundError):
    """A weather search for a place the provider does not know: nothing to show (404)."""

    status_code = 404


def search_history_record(*, user, city_name: str) -> SearchHistory:
    """Remember one search as typed (already trimmed and validated)."""
    return SearchHistory.objects.create(user=user, city_name=city_name)


def search_history_clear(*, user) -> int:
    """Forget the caller's searches, and nobody else's."""
    deleted, _ = SearchHistory.objects.filter(user=user).delete()
    return deleted


def weather_search(*, user, query: str | None) -> tuple[str, City, Observation]:
    """Current weather for a typed name, recorded in the caller's history once the name is valid."""
    from subscriptions.refresh import city_refresh_now

    text = clean_city_query(query, field="city")
    search_history_record(user=user, city_name=text)
    try:
        city = city_resolve(query=text)
    except CityNotFoundError as exc:
        raise SearchCityNotFound(exc.message, field="city") from exc
    fresh_since = timezone.now() - timedelta(seconds=FRESH_READING_SECONDS)
    latest = city.latest
    if (
        latest is not None
        and not city.stale
        and city.last_refreshed_at is not None
        and city.last_refreshed_at >= fresh_since
    ):
        return text, city, latest
    return text, city, city_refresh_now(city=city)


def subscription_refresh(*, user, subscription_id: int) -> Observation:
    """Read one of the caller's cities now, under the provider budget; paused ones are refused."""
    from subscriptions.refresh import city_refresh_now

    subscription = subscription_get(user=user, subscription_id=subscription_id)
    if subscription is None:
        raise NotFound("No such subscription.")
    if subscription.paused:
        raise QuotaExceeded(
            "This city is paused: your plan's limit is reached. Remove a city or upgrade.",
        )
    return city_refresh_now(city=subscription.city)
