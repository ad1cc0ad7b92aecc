from __future__ import annotations

import pytest

from skywatch.times import iso_z
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.factories import ObservationFactory
from tests.support.samples import SAMPLE_READING


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    return body


def test_anonymous_calls_are_not_authenticated(client):
    response = client.get("/api/subscriptions")
    assert response.status_code in (401, 403)
    assert error_of(response)["code"] == "not_authenticated"


def test_city_search_offers_both_parises(alice_client):
    response = alice_client.get("/api/cities/search", {"q": "Paris"})
    assert response.status_code == 200
    places = {(c["name"], c["country"], c["admin1"]) for c in response.json()}
    assert {("Paris", "FR", ""), ("Paris", "US", "Texas")} <= places
    assert len(response.json()) <= 10
    assert set(response.json()[0]) == {"key", "name", "country", "admin1", "latitude", "longitude"}


def test_city_search_refuses_a_blank_query(alice_client):
    response = alice_client.get("/api/cities/search/", {"q": "  "})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "Type the name of a city.",
        "field": "q",
    }


def test_follow_list_and_unfollow(alice_client, alice):
    created = alice_client.post(
        "/api/subscriptions", {"city": "Paris"}, content_type="application/json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["city"]["name"] == "Paris"
    assert set(body) == {"id", "city", "created_at", "paused", "latest"}
    listed = alice_client.get("/api/subscriptions/").json()
    assert [s["id"] for s in listed] == [body["id"]]
    deleted = alice_client.delete(f"/api/subscriptions/{body['id']}/")
    assert deleted.status_code == 204
    assert not Subscription.objects.exists()


def test_the_latest_reading_has_every_field(alice_client, alice):
    subscription = subscription_create(user=alice, query="Oslo")
    observation = ObservationFactory(city=subscription.city)
    subscription.city.latest = observation
    subscription.city.save()
    reading = alice_client.get("/api/subscriptions").json()[0]["latest"]
    assert reading == {
        **SAMPLE_READING,
        "observed_at": iso_z(observation.observed_at),
        "provider": "random",
    }


def test_imperial_users_see_fahrenheit_and_mph(alice_client, alice):
    alice.units = "imperial"
    alice.save()
    subscription = subscription_create(user=alice, query="Oslo")
    subscription.city.latest = ObservationFactory(
        city=subscription.city, temperature=10, feels_like=0, wind_speed=10
    )
    subscription.city.save()
    reading = alice_client.get("/api/subscriptions").json()[0]["latest"]
    assert (reading["temperature"], reading["feels_like"], reading["wind_speed"]) == (
        50.0,
        32.0,
        22.4,
    )
    assert reading["units"] == "imperial"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"city": "Xyzzyqwv"}, 400, "city_not_found", "city"),
        ({"city": ""}, 400, "invalid", "city"),
        ({}, 400, "invalid", "city"),
        ({"city": 42}, 400, "invalid", "city"),
        ({"city": "y" * 101}, 400, "invalid", "city"),
        ({"key": "gn:0"}, 400, "city_not_found", "key"),
    ],
)
def test_bad_follow_requests_get_one_clear_error(alice_client, body, status, code, field):
    response = alice_client.post("/api/subscriptions", body, content_type="application/json")
    assert response.status_code == status
    assert error_of(response)["code"] == code
    assert error_of(response)["field"] == field
    assert not Subscription.objects.exists()


def test_malformed_json_is_invalid(alice_client):
    response = alice_client.post("/api/subscriptions", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_following_twice_is_a_conflict(alice_client):
    alice_client.post("/api/subscriptions", {"city": "Rome"}, content_type="application/json")
    response = alice_client.post(
        "/api/subscriptions", {"city": "Rome"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_subscribed"


def test_a_fourth_city_on_basic_is_refused(alice_client):
    for name in ["Rome", "Oslo", "Lima"]:
        assert (
            alice_client.post(
                "/api/subscriptions", {"city": name}, content_type="application/json"
            ).status_code
            == 201
        )
    response = alice_client.post(
        "/api/subscriptions", {"city": "Kyiv"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert error_of(response) == {
        "code": "quota_exceeded",
        "message": "Your basic plan allows 3 cities. Remove one or upgrade to follow more.",
        "field": "city",
    }


def test_someone_elses_subscription_is_a_404(alice_client, charlie):
    theirs = subscription_create(user=charlie, query="Oslo")
    assert alice_client.get(f"/api/subscriptions/{theirs.pk}").status_code == 404
    response = alice_client.delete(f"/api/subscriptions/{theirs.pk}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_unknown_api_paths_and_methods_use_the_error_format(alice_client):
    missing = alice_client.get("/api/nothing/here")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    wrong = alice_client.put("/api/subscriptions", {}, content_type="application/json")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"


def test_the_list_costs_the_same_queries_for_one_or_many_cities(
    alice_client, bob, client, django_assert_max_num_queries
):
    client.force_login(bob)
    for name in ["Rome", "Oslo", "Lima", "Kyiv", "Cairo", "Tokyo"]:
        subscription_create(user=bob, query=name)
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/subscriptions").json()) == 6
