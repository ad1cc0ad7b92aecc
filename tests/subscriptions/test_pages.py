from __future__ import annotations

import json

from subscriptions.services import subscription_create


def test_the_landing_page_invites_people_to_sign_up(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create a free account" in response.content


def test_logged_in_people_land_on_their_dashboard(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_the_dashboard_needs_a_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_shows_plan_usage_and_only_my_cities(alice_client, alice, charlie):
    subscription_create(user=alice, query="Oslo")
    subscription_create(user=charlie, query="Lima")
    response = alice_client.get("/dashboard/")
    content = response.content.decode()
    assert response.status_code == 200
    state = json.loads(
        content.split('id="dashboard-state" type="application/json">')[1].split("</script>")[0]
    )
    assert state["plan"] == {"slug": "basic", "name": "Basic", "city_limit": 3}
    assert [s["city"]["name"] for s in state["subscriptions"]] == ["Oslo"]
    assert "Lima" not in content


def test_signup_logs_in_and_lands_on_the_dashboard(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a long pass phrase 7",
            "password2": "a long pass phrase 7",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_the_login_page_is_styled_with_bootstrap(client, db):
    content = client.get("/accounts/login/").content.decode()
    assert "bootstrap.min.css" in content
    assert "form-control" in content


def test_password_reset_sends_a_mail(client, alice, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "alice@example.com" in mailoutbox[0].to
