"""One tenant cannot spend everyone's provider budget: on-demand reads come from an allowance
per account by plan, leave the scheduler its reserve of every window, and serve a fresh reading
again instead of calling (security finding 2, against real Redis in CI)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from skywatch.api import throttles
from skywatch.errors import Throttled
from subscriptions import on_demand, refresh
from subscriptions.models import City
from subscriptions.services import subscription_create
from tests.api.conftest import bearer_client, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def always_stale(monkeypatch):
    """Every refresh-now reaches the provider (no reading is fresh enough to serve again)."""
    monkeypatch.setattr(on_demand, "FRESH_REFRESH_SECONDS", 0)
    cache.clear()
    throttles.reset()


def followed(user, name: str):
    subscription = subscription_create(user=user, query=name)
    City.objects.filter(pk=subscription.city_id).update(last_refreshed_at=None)
    return subscription


@pytest.mark.services
def test_a_basic_account_gets_its_allowance_and_then_429_while_others_still_refresh(
    use_provider, alice, bob, always_stale
):
    provider = use_provider("counting", budget="600/minute")
    allowance = alice.plan.on_demand_per_hour
    mine, theirs = followed(alice, "Oslo"), followed(bob, "Lima")
    alice_api, bob_api = bearer_client(alice), bearer_client(bob)

    answers = [
        alice_api.post(f"/api/subscriptions/{mine.pk}/refresh").status_code
        for _ in range(allowance + 1)
    ]

    assert answers == [200] * allowance + [429]
    refused = error_of(
        alice_api.post(f"/api/subscriptions/{mine.pk}/refresh"), status=429, code="throttled"
    )
    assert "30 times an hour" in refused["message"]
    assert bob_api.post(f"/api/subscriptions/{theirs.pk}/refresh").status_code == 200
    assert len(provider.calls) == allowance + 1  # the refused ones never reached the provider


@pytest.mark.services
def test_on_demand_reads_leave_the_scheduler_its_share_of_every_window(
    use_provider, alice, bob, settings, always_stale
):
    settings.PROVIDER_SCHEDULER_RESERVE = 0.5
    provider = use_provider("counting", budget="10/minute", batch_size=1)
    cities = [followed(user, name).city for user, name in ((alice, "Oslo"), (bob, "Lima"))]

    outcomes = []
    for _ in range(8):
        try:
            on_demand.city_refresh_now(city=cities[0])
            outcomes.append("read")
        except Throttled:
            outcomes.append("429")

    # Half of the minute's 10 calls are the scheduler's: on demand gets the other 5.
    assert outcomes == ["read"] * 5 + ["429"] * 3
    summary = refresh.refresh_cities(cities, max_wait=0, attempts=1)
    assert summary.stored == 2
    assert len(provider.calls) == 7


def test_refresh_now_serves_a_reading_from_the_last_minute_without_calling(counting, alice):
    subscription = subscription_create(user=alice, query="Oslo")
    api = bearer_client(alice)

    first = api.post(f"/api/subscriptions/{subscription.pk}/refresh").json()
    second = api.post(f"/api/subscriptions/{subscription.pk}/refresh").json()

    assert first == second
    assert len(counting.calls) <= 1
