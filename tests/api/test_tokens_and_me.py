from __future__ import annotations

import datetime as dt
import hashlib

import time_machine
from django.utils import timezone

from skywatch.accounts.models import ApiToken, User
from subscriptions.services import subscription_create
from tests.api.conftest import error_of


def create_token(client, name="laptop script"):
    response = client.post("/api/tokens", {"name": name})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_token_is_shown_once_and_stored_hashed(alice_api, alice):
    body = create_token(alice_api)
    assert set(body) == {"id", "name", "token", "created_at"}
    assert body["name"] == "laptop script"
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.user == alice
    assert body["token"] not in (stored.digest, stored.prefix)
    assert stored.digest == hashlib.sha256(body["token"].encode()).hexdigest()
    assert len(body["token"]) > 40
    listed = alice_api.get("/api/tokens").json()
    assert listed == [
        {
            "id": body["id"],
            "name": "laptop script",
            "created_at": body["created_at"],
            "last_used_at": None,
        }
    ]


def test_a_personal_token_authenticates_in_x_api_token(api, alice_api):
    token = create_token(alice_api)["token"]
    response = api.get("/api/me", HTTP_X_API_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"
    assert alice_api.get("/api/tokens").json()[0]["last_used_at"] is not None


def test_last_use_is_written_at_most_once_a_minute(api, alice_api, django_assert_max_num_queries):
    token = create_token(alice_api)["token"]
    api.get("/api/me", HTTP_X_API_TOKEN=token)
    first = ApiToken.objects.get().last_used_at
    with django_assert_max_num_queries(5):
        api.get("/api/me", HTTP_X_API_TOKEN=token)
    assert ApiToken.objects.get().last_used_at == first
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        api.get("/api/me", HTTP_X_API_TOKEN=token)
    assert ApiToken.objects.get().last_used_at > first


def test_a_revoked_token_stops_working_at_once(api, alice_api):
    created = create_token(alice_api)
    assert api.get("/api/me", HTTP_X_API_TOKEN=created["token"]).status_code == 200
    assert alice_api.delete(f"/api/tokens/{created['id']}").status_code == 204
    error_of(
        api.get("/api/me", HTTP_X_API_TOKEN=created["token"]),
        status=401,
        code="authentication_failed",
    )
    assert alice_api.get("/api/tokens").json() == []


def test_bad_tokens_are_authentication_failed(api, alice_api):
    token = create_token(alice_api)["token"]
    for bad in [
        "nonsense",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "sw_x_y",
        "sw_" + "a" * 300,
    ]:
        error_of(api.get("/api/me", HTTP_X_API_TOKEN=bad), status=401, code="authentication_failed")


def test_a_token_of_a_deactivated_account_is_refused(api, alice_api, alice):
    token = create_token(alice_api)["token"]
    User.objects.filter(pk=alice.pk).update(is_active=False)
    error_of(api.get("/api/me", HTTP_X_API_TOKEN=token), status=401, code="authentication_failed")


def test_token_names_are_validated(alice_api):
    error_of(alice_api.post("/api/tokens", {}), status=400, code="invalid", field="name")
    error_of(
        alice_api.post("/api/tokens", {"name": "  "}), status=400, code="invalid", field="name"
    )
    error_of(
        alice_api.post("/api/tokens", {"name": "x" * 101}), status=400, code="invalid", field="name"
    )
    assert not ApiToken.objects.exists()


def test_an_account_has_a_bounded_number_of_tokens(alice_api, alice, settings, monkeypatch):
    monkeypatch.setattr("skywatch.accounts.services.MAX_TOKENS_PER_ACCOUNT", 2)
    create_token(alice_api, "one")
    create_token(alice_api, "two")
    error_of(alice_api.post("/api/tokens", {"name": "three"}), status=403, code="quota_exceeded")
    assert ApiToken.objects.count() == 2


def test_someone_elses_token_cannot_be_seen_or_revoked(alice_api, charlie_api, api):
    theirs = create_token(charlie_api)
    assert alice_api.get("/api/tokens").json() == []
    error_of(alice_api.delete(f"/api/tokens/{theirs['id']}"), status=404, code="not_found")
    error_of(alice_api.delete("/api/tokens/999999"), status=404, code="not_found")
    assert (
        api.get("/api/me", HTTP_X_API_TOKEN=theirs["token"]).json()["email"]
        == "charlie@example.com"
    )


def test_the_token_list_costs_the_same_queries_for_many_tokens(
    alice_api, django_assert_max_num_queries
):
    for number in range(12):
        create_token(alice_api, f"token {number}")
    with django_assert_max_num_queries(3):
        assert len(alice_api.get("/api/tokens").json()) == 12


def test_me_shows_plan_usage_units_and_share_link(bob_api, bob):
    subscription_create(user=bob, query="Oslo")
    body = bob_api.get("/api/me/").json()
    assert body == {
        "id": bob.pk,
        "email": "bob@example.com",
        "plan": {"slug": "premium", "name": "Premium", "city_limit": 15},
        "usage": {"cities": 1},
        "units": "metric",
        "share_url": f"http://testserver/share/{bob.share_token}/",
    }


def test_patch_me_switches_units(alice_api, alice):
    response = alice_api.patch("/api/me", {"units": "imperial"})
    assert response.status_code == 200
    assert response.json()["units"] == "imperial"
    alice.refresh_from_db()
    assert alice.units == "imperial"
    assert alice_api.patch("/api/me", {}).json()["units"] == "imperial"


def test_patch_me_refuses_other_units(alice_api, alice):
    for units in ["kelvin", "", None, 3, ["metric"]]:
        error_of(
            alice_api.patch("/api/me", {"units": units}), status=400, code="invalid", field="units"
        )
    alice.refresh_from_db()
    assert alice.units == "metric"


def test_a_new_share_link_retires_the_old_one(alice_api, alice):
    before = alice_api.get("/api/me").json()["share_url"]
    response = alice_api.post("/api/me/share")
    assert response.status_code == 200
    after = response.json()["share_url"]
    assert after != before
    alice.refresh_from_db()
    assert after == f"http://testserver/share/{alice.share_token}/"
    assert not User.objects.filter(share_token=before.rstrip("/").rsplit("/", 1)[-1]).exists()


def test_the_websocket_accepts_a_jwt_access_token_or_a_personal_token(alice, alice_api):
    from notifications.auth import user_for_token
    from skywatch.accounts.services import jwt_pair

    pair = jwt_pair(user=alice)
    created = create_token(alice_api)
    assert user_for_token(pair["access"]) == alice
    assert user_for_token(created["token"]) == alice
    assert user_for_token(pair["refresh"]) is None
    assert user_for_token("sw_nope_nope") is None
    alice_api.delete(f"/api/tokens/{created['id']}")
    assert user_for_token(created["token"]) is None
