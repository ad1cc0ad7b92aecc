"""GET /api/subscriptions/<id>/forecast, and observations paged like history."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from skywatch.errors import ProviderUnavailable, Throttled
from subscriptions.models import Forecast, Observation
from subscriptions.services import subscription_create
from tests.api.conftest import error_of
from tests.factories import ObservationFactory

HOUR_KEYS = {
    "time",
    "temperature",
    "feels_like",
    "precipitation_probability",
    "precipitation",
    "wind_speed",
    "wind_gusts",
    "clouds",
    "uv_index",
    "condition",
    "icon",
}
DAY_KEYS = {
    "date",
    "temperature_max",
    "temperature_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_max",
    "uv_index_max",
    "sunrise",
    "sunset",
    "condition",
    "icon",
}


@pytest.fixture
def lyon(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return subscription_create(user=alice, query="Lyon")


def test_the_forecast_covers_48_hours_from_this_hour_and_7_days_from_the_local_today(
    alice_api, lyon
):
    response = alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"city", "issued_at", "units", "hourly", "daily"}
    assert body["city"]["name"] == "Lyon"
    assert body["units"] == "metric"
    now = timezone.now()
    first = dt.datetime.fromisoformat(body["hourly"][0]["time"])
    assert now - dt.timedelta(hours=1) < first <= now
    last = dt.datetime.fromisoformat(body["hourly"][-1]["time"])
    assert last - first >= dt.timedelta(hours=48)
    assert all(set(hour) == HOUR_KEYS for hour in body["hourly"])
    assert len(body["daily"]) == 7
    assert all(set(day) == DAY_KEYS for day in body["daily"])
    paris_today = now.astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date().isoformat()
    assert body["daily"][0]["date"] == paris_today


def test_the_forecast_is_in_the_callers_units(alice_api, alice, lyon):
    metric = alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast").json()
    alice.units = "imperial"
    alice.save()

    imperial = alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast/").json()

    assert imperial["units"] == "imperial"
    hot, cold = metric["hourly"][0], imperial["hourly"][0]
    assert cold["temperature"] == pytest.approx(hot["temperature"] * 9 / 5 + 32, abs=0.11)
    if hot["precipitation"] is not None:
        assert cold["precipitation"] == pytest.approx(hot["precipitation"] / 25.4, abs=0.011)


def test_someone_elses_forecast_is_not_found(charlie_api, lyon):
    error_of(
        charlie_api.get(f"/api/subscriptions/{lyon.pk}/forecast"), status=404, code="not_found"
    )


def test_without_a_stored_forecast_it_is_fetched_now(alice_api, lyon):
    Forecast.objects.all().delete()

    assert alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast").status_code == 200
    assert Forecast.objects.filter(city=lyon.city).exists()


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (Throttled("The budget is spent for now.", retry_after=30), 429, "throttled"),
        (ProviderUnavailable("HTTP 503."), 503, "provider_unavailable"),
    ],
)
def test_a_forecast_that_cannot_be_fetched_now_is_a_clear_error(
    alice_api, lyon, monkeypatch, failure, status, code
):
    Forecast.objects.all().delete()

    def fails(*, city):
        raise failure

    monkeypatch.setattr("subscriptions.on_demand.city_forecast_now", fails)
    error_of(alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast"), status=status, code=code)
    assert not Forecast.objects.exists()


def test_with_forecasts_turned_off_there_is_none_to_fetch(alice_api, lyon, settings):
    Forecast.objects.all().delete()
    settings.FORECAST_REFRESH_SECONDS = 0

    error_of(alice_api.get(f"/api/subscriptions/{lyon.pk}/forecast"), status=404, code="not_found")


def test_observations_page_like_history(alice_api, lyon):
    Observation.objects.filter(city=lyon.city).delete()
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for n in range(25):
        ObservationFactory(city=lyon.city, observed_at=start + dt.timedelta(hours=n))
    url = f"/api/subscriptions/{lyon.pk}/observations"

    first = alice_api.get(url, {"per_page": "10"}).json()
    last = alice_api.get(url, {"per_page": "10", "page": "3"}).json()
    everything = alice_api.get(url, {"per_page": "all"}).json()

    assert set(first) == {"count", "next", "previous", "city", "observations"}
    assert first["count"] == 25
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert first["observations"][0]["observed_at"] == "2026-11-01T00:00:00Z"
    assert len(last["observations"]) == 5
    assert last["next"] is None
    assert len(everything["observations"]) == 25
    error_of(alice_api.get(url, {"per_page": "7"}), status=400, code="invalid", field="per_page")
    error_of(alice_api.get(url, {"page": "0"}), status=400, code="invalid", field="page")
    error_of(alice_api.get(url, {"per_page": "10", "page": "4"}), status=404, code="not_found")


def test_forecasts_of_15_cards_cost_the_same_queries_as_one(
    alice, bob, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from subscriptions.events import snapshot_events

    names = [
        "Oslo",
        "Lima",
        "Rome",
        "Cairo",
        "Tokyo",
        "Paris",
        "Berlin",
        "Madrid",
        "Vienna",
        "Prague",
        "Dublin",
        "Lisbon",
        "Athens",
        "Warsaw",
        "Helsinki",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        subscription_create(user=alice, query=names[0])
        for name in names:
            subscription_create(user=bob, query=name)

    with django_assert_max_num_queries(1):
        assert len(snapshot_events(user=alice)[1]["updates"]) == 1
    with django_assert_max_num_queries(1):
        assert len(snapshot_events(user=bob)[1]["updates"]) == 15
