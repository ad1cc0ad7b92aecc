"""Export of all my data and deleting the account: the caller's and nobody else's."""

from __future__ import annotations

import json

from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from skywatch.accounts.models import ApiToken, User
from skywatch.accounts.services import jwt_pair
from subscriptions.models import City, Observation, SearchHistory, Subscription
from tests.api.conftest import error_of
from tests.factories import CityFactory, ObservationFactory, SubscriptionFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def world(user, *, city_name: str, search: str):
    city = CityFactory(name=city_name)
    city.latest = ObservationFactory(city=city)
    city.save(update_fields=["latest"])
    SubscriptionFactory(user=user, city=city)
    SearchHistory.objects.create(user=user, city_name=search)
    return city


def test_the_export_is_an_attachment_with_everything_of_the_caller(alice_api, alice, bob):
    world(alice, city_name="Oslo", search="oslo")
    world(bob, city_name="Lima", search="lima")
    token = alice_api.post("/api/tokens", {"name": "laptop script"}).json()["token"]
    bob_token = APIClient()
    bob_token.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_pair(user=bob)['access']}")
    bob_token.post("/api/tokens", {"name": "bob's cron"})

    response = alice_api.get("/api/me/export")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {
        "exported_at",
        "account",
        "subscriptions",
        "alerts",
        "alert_events",
        "search_history",
        "api_tokens",
    }
    assert body["account"]["email"] == "alice@example.com"
    assert body["account"]["plan"]["slug"] == "basic"
    assert [s["city"]["name"] for s in body["subscriptions"]] == ["Oslo"]
    assert [h["city_name"] for h in body["search_history"]] == ["oslo"]
    assert body["api_tokens"] == [
        {
            "name": "laptop script",
            "created_at": body["api_tokens"][0]["created_at"],
            "last_used_at": None,
        }
    ]
    assert body["alerts"] == []
    assert body["alert_events"] == []
    text = json.dumps(body)
    stored = ApiToken.objects.get(user=alice)
    for secret in (token, stored.digest, stored.prefix, alice.password, alice.share_token):
        assert secret not in text
    assert "Lima" not in text
    assert "bob" not in text


def test_the_export_answers_with_and_without_a_slash_and_needs_a_login(alice_api, api):
    assert alice_api.get("/api/me/export/").status_code == 200
    error_of(api.get("/api/me/export"), status=401, code="not_authenticated")


def test_deleting_the_account_removes_everything_of_it_and_keeps_shared_cities(
    alice_api, alice, bob
):
    oslo = world(alice, city_name="Oslo", search="oslo")
    SubscriptionFactory(user=bob, city=oslo)
    SearchHistory.objects.create(user=bob, city_name="bob's search")
    alice_api.post("/api/tokens", {"name": "laptop script"})
    refresh = jwt_pair(user=alice)["refresh"]
    browser = APIClient()
    browser.force_login(alice)
    bob_browser = APIClient()
    bob_browser.force_login(bob)

    response = alice_api.delete("/api/me", {"password": PASSWORD})

    assert response.status_code == 204
    assert not User.objects.filter(email="alice@example.com").exists()
    assert not Subscription.objects.filter(user_id=alice.pk).exists()
    assert not SearchHistory.objects.filter(user_id=alice.pk).exists()
    assert not ApiToken.objects.filter(user_id=alice.pk).exists()
    # The shared city and its readings stay, and so does everything of bob.
    assert City.objects.filter(pk=oslo.pk).exists()
    assert Observation.objects.filter(city=oslo).exists()
    assert Subscription.objects.filter(user=bob, city=oslo).exists()
    assert SearchHistory.objects.filter(user=bob).count() == 1
    # Alice's sessions and refresh tokens are gone; bob's session still works.
    assert browser.get("/api/me").status_code in (401, 403)
    assert bob_browser.get("/api/me").status_code == 200
    assert Session.objects.count() == 1
    error_of(
        APIClient().post("/api/auth/refresh", {"refresh": refresh}),
        status=401,
        code="authentication_failed",
    )
    error_of(
        APIClient().post("/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}),
        status=401,
        code="authentication_failed",
    )


def test_a_wrong_or_missing_password_deletes_nothing(alice_api, alice):
    world(alice, city_name="Oslo", search="oslo")
    for body in ({"password": "not my password"}, {}, {"password": ""}, {"email": alice.email}):
        error_of(alice_api.delete("/api/me", body), status=400, code="invalid", field="password")
    error_of(
        alice_api.delete("/api/me", {"password": 12}), status=400, code="invalid", field="password"
    )
    assert User.objects.filter(pk=alice.pk).exists()
    assert Subscription.objects.filter(user=alice).count() == 1
    assert SearchHistory.objects.filter(user=alice).count() == 1
    assert alice_api.get("/api/me").status_code == 200


def test_an_account_without_a_password_confirms_with_its_email(db):
    social = UserFactory(email="social@example.com", password=None)
    social.set_unusable_password()
    social.save()
    SocialAccount.objects.create(user=social, provider="github", uid="42")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_pair(user=social)['access']}")

    error_of(
        client.delete("/api/me", {"email": "other@example.com"}),
        status=400,
        code="invalid",
        field="email",
    )
    error_of(
        client.delete("/api/me", {"password": "anything"}),
        status=400,
        code="invalid",
        field="email",
    )
    assert User.objects.filter(pk=social.pk).exists()

    assert client.delete("/api/me", {"email": "Social@Example.com "}).status_code == 204
    assert not User.objects.filter(pk=social.pk).exists()
    assert not SocialAccount.objects.filter(uid="42").exists()


def test_one_account_cannot_delete_another(alice_api, bob):
    # The password is bob's too (the factory's), yet only the caller's account goes.
    assert alice_api.delete("/api/me", {"password": PASSWORD}).status_code == 204
    assert User.objects.filter(pk=bob.pk).exists()


def test_a_units_change_sends_every_open_page_a_snapshot(
    alice_api, alice, django_capture_on_commit_callbacks, monkeypatch
):
    world(alice, city_name="Oslo", search="oslo")
    sent = []
    monkeypatch.setattr(
        "skywatch.events.notify_users", lambda ids, event: sent.append((list(ids), event))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_api.patch("/api/me", {"units": "imperial"}).json()["units"] == "imperial"
    assert len(sent) == 1
    recipients, event = sent[0]
    assert recipients == [alice.pk]
    assert event["type"] == "snapshot"
    assert [s["latest"]["units"] for s in event["subscriptions"]] == ["imperial"]


def test_a_refused_units_change_sends_nothing(
    alice_api, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("skywatch.events.notify_users", lambda ids, event: sent.append(event))
    with django_capture_on_commit_callbacks(execute=True):
        error_of(
            alice_api.patch("/api/me", {"units": "kelvin"}),
            status=400,
            code="invalid",
            field="units",
        )
    assert sent == []
