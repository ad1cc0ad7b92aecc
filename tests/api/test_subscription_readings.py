from __future__ import annotations

import datetime as dt

import pytest

from skywatch.errors import Throttled
from subscriptions.models import Observation, Subscription
from subscriptions.services import subscription_create
from tests.api.conftest import error_of
from tests.factories import ObservationFactory
from weather_provider import ProviderError, get_provider

UTC = dt.UTC


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def oslo(alice):
    subscription = subscription_create(user=alice, query="Oslo")
    Observation.objects.filter(city=subscription.city).delete()
    for day, hour in [(20, 23), (21, 0), (21, 12), (22, 23), (23, 0)]:
        ObservationFactory(city=subscription.city, observed_at=at(day, hour), temperature=day)
    return subscription


def observed(response) -> list[str]:
    return [row["observed_at"] for row in response.json()["observations"]]


def test_observations_between_two_inclusive_days_oldest_first(alice_api, oslo):
    response = alice_api.get(
        f"/api/subscriptions/{oslo.pk}/observations", {"start": "2026-11-21", "end": "2026-11-22"}
    )
    assert response.status_code == 200
    assert set(response.json()) == {"city", "observations"}
    assert response.json()["city"]["name"] == "Oslo"
    assert observed(response) == [
        "2026-11-21T00:00:00Z",
        "2026-11-21T12:00:00Z",
        "2026-11-22T23:00:00Z",
    ]
    assert response.json()["observations"][0]["temperature"] == 21.0


def test_either_bound_is_optional(alice_api, oslo):
    url = f"/api/subscriptions/{oslo.pk}/observations/"
    assert len(observed(alice_api.get(url))) == 5
    assert observed(alice_api.get(url, {"start": "2026-11-22"})) == [
        "2026-11-22T23:00:00Z",
        "2026-11-23T00:00:00Z",
    ]
    assert observed(alice_api.get(url, {"end": "2026-11-20"})) == ["2026-11-20T23:00:00Z"]
    assert observed(alice_api.get(url, {"start": "2026-11-24"})) == []


def test_observations_are_in_the_callers_units(alice_api, alice, oslo):
    alice.units = "imperial"
    alice.save()
    rows = alice_api.get(f"/api/subscriptions/{oslo.pk}/observations").json()["observations"]
    assert rows[0]["units"] == "imperial"
    assert rows[0]["temperature"] == 68.0


def test_observations_are_capped_to_the_newest(alice_api, oslo, monkeypatch):
    monkeypatch.setattr("subscriptions.api.MAX_OBSERVATIONS", 2)
    rows = observed(alice_api.get(f"/api/subscriptions/{oslo.pk}/observations"))
    assert rows == ["2026-11-22T23:00:00Z", "2026-11-23T00:00:00Z"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "21/11/2026"}, "start"),
        ({"start": "20261121"}, "start"),
        ({"end": "2026-02-30"}, "end"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-11-23", "end": "2026-11-21"}, "start"),
        ({"start": ["2026-11-21", "2026-11-22"]}, "start"),
    ],
)
def test_bad_dates_are_invalid(alice_api, oslo, params, field):
    error_of(
        alice_api.get(f"/api/subscriptions/{oslo.pk}/observations", params),
        status=400,
        code="invalid",
        field=field,
    )


def test_observations_cost_the_same_queries_for_many_rows(
    alice_api, oslo, django_assert_max_num_queries
):
    for hour in range(40):
        ObservationFactory(city=oslo.city, observed_at=at(1, 0) + dt.timedelta(hours=hour))
    with django_assert_max_num_queries(4):
        assert len(observed(alice_api.get(f"/api/subscriptions/{oslo.pk}/observations"))) == 45


def test_refresh_reads_the_city_now_and_stores_it(alice_api, oslo):
    before = Observation.objects.filter(city=oslo.city).count()
    response = alice_api.post(f"/api/subscriptions/{oslo.pk}/refresh")
    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == "random"
    assert body["stale"] is False
    assert Observation.objects.filter(city=oslo.city).count() == before + 1
    oslo.city.refresh_from_db()
    assert oslo.city.latest.observed_at.isoformat().replace("+00:00", "Z") == body["observed_at"]


def test_refresh_without_a_trailing_slash_or_with_one(alice_api, oslo):
    assert alice_api.post(f"/api/subscriptions/{oslo.pk}/refresh/").status_code == 200


def test_refresh_when_the_budget_is_spent_is_throttled(alice_api, oslo, monkeypatch):
    def spent(*, city):
        raise Throttled("The weather budget is spent for now.", retry_after=30)

    monkeypatch.setattr("subscriptions.on_demand.city_refresh_now", spent)
    response = alice_api.post(f"/api/subscriptions/{oslo.pk}/refresh")
    error_of(response, status=429, code="throttled")
    assert response["Retry-After"] == "30"


def test_refresh_when_the_provider_fails_is_provider_unavailable(alice_api, oslo, monkeypatch):
    def fail(locations):
        raise ProviderError("The provider answered 500.")

    monkeypatch.setattr(get_provider(), "current", fail)
    error_of(
        alice_api.post(f"/api/subscriptions/{oslo.pk}/refresh"),
        status=503,
        code="provider_unavailable",
    )


def test_a_paused_subscription_is_not_refreshed(alice_api, oslo):
    Subscription.objects.filter(pk=oslo.pk).update(paused=True)
    error_of(
        alice_api.post(f"/api/subscriptions/{oslo.pk}/refresh"), status=403, code="quota_exceeded"
    )


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("delete", ""),
        ("get", "/observations"),
        ("post", "/refresh"),
    ],
)
def test_someone_elses_subscription_is_not_found(charlie_api, oslo, method, suffix):
    before = Observation.objects.count()
    response = getattr(charlie_api, method)(f"/api/subscriptions/{oslo.pk}{suffix}")
    error_of(response, status=404, code="not_found")
    assert Subscription.objects.filter(pk=oslo.pk).exists()
    assert Observation.objects.count() == before
