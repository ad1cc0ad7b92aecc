from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from skywatch.errors import Throttled
from subscriptions.models import City, Observation, SearchHistory
from tests.api.conftest import error_of
from weather_provider import ProviderError, get_provider

READING_FIELDS = {
    "observed_at",
    "temperature",
    "feels_like",
    "humidity",
    "clouds",
    "wind_speed",
    "wind_direction",
    "precipitation_probability",
    "pressure",
    "condition",
    "icon",
    "units",
    "provider",
    "stale",
}


def search(client, city):
    return client.get("/api/weather", {"city": city})


def test_a_search_answers_the_city_and_its_current_weather(alice_api, alice):
    response = search(alice_api, "  São Paulo ")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "city", "current"}
    assert body["query"] == "São Paulo"
    assert set(body["city"]) == {"id", "name", "country", "latitude", "longitude"}
    assert (body["city"]["name"], body["city"]["country"]) == ("São Paulo", "BR")
    assert set(body["current"]) == READING_FIELDS
    assert body["current"]["units"] == "metric"
    assert body["current"]["provider"] == "random"
    city = City.objects.get(pk=body["city"]["id"])
    assert city.latest is not None
    assert list(SearchHistory.objects.values_list("user", "city_name")) == [(alice.pk, "São Paulo")]


def test_a_search_shows_the_callers_units(alice_api, alice):
    alice.units = "imperial"
    alice.save()
    assert search(alice_api, "Oslo").json()["current"]["units"] == "imperial"


def test_a_fresh_reading_is_reused_for_ten_minutes(alice_api, monkeypatch):
    calls = []
    provider = get_provider()
    real_current = provider.current
    monkeypatch.setattr(
        provider, "current", lambda locations: calls.append(1) or real_current(locations)
    )
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = search(alice_api, "Oslo").json()["current"]
        traveller.shift(dt.timedelta(minutes=9))
        assert search(alice_api, "oslo").json()["current"] == first
        assert len(calls) == 1
        traveller.shift(dt.timedelta(minutes=2))
        search(alice_api, "Oslo")
        assert len(calls) == 2
    assert SearchHistory.objects.count() == 3


@pytest.mark.parametrize(
    "params", [{}, {"city": ""}, {"city": "   "}, {"city": "x" * 101}, {"city": ["Oslo", "Rome"]}]
)
def test_a_search_without_a_valid_name_is_invalid_and_not_recorded(alice_api, params):
    error_of(alice_api.get("/api/weather", params), status=400, code="invalid", field="city")
    assert not SearchHistory.objects.exists()


def test_an_unknown_city_is_404_and_still_recorded(alice_api):
    error_of(search(alice_api, "Xyzzyqwv"), status=404, code="city_not_found", field="city")
    assert list(SearchHistory.objects.values_list("city_name", flat=True)) == ["Xyzzyqwv"]


def test_a_failing_provider_is_provider_unavailable(alice_api, monkeypatch):
    def fail(locations):
        raise ProviderError("The provider timed out.")

    monkeypatch.setattr(get_provider(), "current", fail)
    error_of(search(alice_api, "Oslo"), status=503, code="provider_unavailable")


def test_a_failing_geocoder_is_provider_unavailable(alice_api, monkeypatch):
    def fail(query, *, limit=10):
        raise ProviderError("The provider timed out.")

    monkeypatch.setattr(get_provider(), "search", fail)
    error_of(search(alice_api, "Oslo"), status=503, code="provider_unavailable")


def test_a_spent_budget_is_throttled_with_retry_after(alice_api, monkeypatch):
    def spent(*, city):
        raise Throttled("The weather budget is spent for now.", retry_after=41.2)

    monkeypatch.setattr("subscriptions.on_demand.city_refresh_now", spent)
    response = search(alice_api, "Oslo")
    error_of(response, status=429, code="throttled")
    assert response["Retry-After"] == "42"


def make_history(user, count):
    start = timezone.now() - dt.timedelta(hours=count)
    for number in range(count):
        with time_machine.travel(start + dt.timedelta(hours=number), tick=False):
            SearchHistory.objects.create(user=user, city_name=f"City {number}")


def test_history_pages_newest_first_ten_at_a_time(alice_api, alice, charlie):
    make_history(alice, 23)
    make_history(charlie, 3)
    first = alice_api.get("/api/history").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 23
    assert first["previous"] is None
    assert [row["city_name"] for row in first["results"]] == [
        f"City {n}" for n in range(22, 12, -1)
    ]
    assert set(first["results"][0]) == {"id", "city_name", "timestamp"}
    assert first["results"][0]["timestamp"].endswith("Z")
    second = alice_api.get(first["next"]).json()
    assert [row["city_name"] for row in second["results"]] == [
        f"City {n}" for n in range(12, 2, -1)
    ]
    third = alice_api.get(second["next"]).json()
    assert [row["city_name"] for row in third["results"]] == ["City 2", "City 1", "City 0"]
    assert third["next"] is None
    assert alice_api.get(third["previous"]).json() == second
    assert alice_api.get(second["previous"]).json() == first


def test_history_in_pages_of_thirty_and_all_at_once(alice_api, alice):
    make_history(alice, 35)
    thirty = alice_api.get("/api/history", {"per_page": "30"}).json()
    assert len(thirty["results"]) == 30
    assert "per_page=30" in thirty["next"]
    assert len(alice_api.get(thirty["next"]).json()["results"]) == 5
    everything = alice_api.get("/api/history", {"per_page": "all"}).json()
    assert (everything["count"], len(everything["results"]), everything["next"]) == (35, 35, None)


def test_history_edges(alice_api, alice):
    empty = alice_api.get("/api/history", {"page": "1"}).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}
    make_history(alice, 10)
    exact = alice_api.get("/api/history").json()
    assert (len(exact["results"]), exact["next"]) == (10, None)
    error_of(alice_api.get("/api/history", {"page": "2"}), status=404, code="not_found")
    error_of(
        alice_api.get("/api/history", {"per_page": "all", "page": "2"}),
        status=404,
        code="not_found",
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "20"}, "per_page"),
        ({"per_page": "ALL"}, "per_page"),
        ({"per_page": ""}, "per_page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "٣"}, "page"),
        ({"page": "9" * 40}, "page"),
    ],
)
def test_history_refuses_bad_paging(alice_api, alice, params, field):
    error_of(alice_api.get("/api/history", params), status=400, code="invalid", field=field)


def test_history_costs_the_same_queries_for_any_length(
    alice_api, alice, django_assert_max_num_queries
):
    make_history(alice, 40)
    # The caller, their plan (throttle), the count and the page.
    with django_assert_max_num_queries(4):
        assert len(alice_api.get("/api/history", {"per_page": "all"}).json()["results"]) == 40


def test_clearing_history_clears_only_the_callers(alice_api, alice, charlie):
    make_history(alice, 3)
    make_history(charlie, 2)
    assert alice_api.delete("/api/history").status_code == 204
    assert alice_api.get("/api/history").json()["count"] == 0
    assert SearchHistory.objects.filter(user=charlie).count() == 2


def test_searches_land_in_the_searchers_history_only(alice_api, charlie_api):
    search(alice_api, "Rome")
    search(charlie_api, "Lima")
    assert [r["city_name"] for r in alice_api.get("/api/history").json()["results"]] == ["Rome"]
    assert [r["city_name"] for r in charlie_api.get("/api/history").json()["results"]] == ["Lima"]


def test_a_reading_of_a_city_nobody_follows_is_kept_too(alice_api):
    search(alice_api, "Rome")
    assert Observation.objects.count() == 1
