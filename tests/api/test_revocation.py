"""A logout, a password change and "log out everywhere" end the tokens and sessions they promise."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.api.conftest import error_of

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new pass phrase 8"


def login(api: APIClient, email: str = "alice@example.com", password: str = PASSWORD) -> dict:
    response = api.post("/api/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def me(api: APIClient, access: str):
    return api.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_an_api_logout_ends_the_access_tokens_of_that_login_only(api, alice):
    first, second = login(api), login(api)

    assert api.post("/api/auth/logout", {"refresh": first["refresh"]}).status_code == 204

    error_of(me(api, first["access"]), status=401, code="authentication_failed")
    assert me(api, second["access"]).status_code == 200


def test_a_password_change_revokes_every_refresh_and_access_token_and_other_session(
    api, alice, client
):
    tokens = login(api)
    other_browser = APIClient()
    other_browser.force_login(alice)
    client.force_login(alice)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content[:500]
    error_of(me(api, tokens["access"]), status=401, code="authentication_failed")
    error_of(
        api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}),
        status=401,
        code="authentication_failed",
    )
    error_of(other_browser.get("/api/me"), status=401, code="not_authenticated")
    # The browser that changed it stays signed in; a new login works with the new password.
    assert client.get("/api/me").status_code == 200
    assert me(api, login(api, password=NEW_PASSWORD)["access"]).status_code == 200


def test_logging_out_everywhere_ends_every_session_and_jwt_but_not_personal_tokens(
    api, alice, alice_api
):
    tokens = login(api)
    browser = APIClient()
    browser.force_login(alice)
    personal = alice_api.post("/api/tokens", {"name": "script"}).json()["token"]

    response = alice_api.post("/api/me/logout-everywhere")

    assert response.status_code == 204
    error_of(me(api, tokens["access"]), status=401, code="authentication_failed")
    error_of(
        api.post("/api/auth/refresh", {"refresh": tokens["refresh"]}),
        status=401,
        code="authentication_failed",
    )
    error_of(alice_api.get("/api/me"), status=401, code="authentication_failed")
    error_of(browser.get("/api/me"), status=401, code="not_authenticated")
    assert api.get("/api/me", HTTP_X_API_TOKEN=personal).status_code == 200
    assert me(api, login(api)["access"]).status_code == 200


def test_logging_out_everywhere_from_a_browser_needs_its_csrf_token(alice):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(alice)

    error_of(browser.post("/api/me/logout-everywhere"), status=403, code="permission_denied")


def test_a_token_issued_without_the_revocation_claims_is_refused(api, alice):
    from rest_framework_simplejwt.tokens import RefreshToken

    bare = RefreshToken.for_user(alice)

    error_of(me(api, str(bare.access_token)), status=401, code="authentication_failed")
    error_of(
        api.post("/api/auth/refresh", {"refresh": str(bare)}),
        status=401,
        code="authentication_failed",
    )


def test_an_api_login_or_registration_starts_no_session(api, alice):
    from django.contrib.sessions.models import Session

    login_response = api.post(
        "/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}
    )
    register_response = api.post(
        "/api/auth/register", {"email": "newcomer@example.com", "password": NEW_PASSWORD}
    )

    assert login_response.status_code == 200
    assert register_response.status_code == 201
    assert "sessionid" not in login_response.cookies
    assert "sessionid" not in register_response.cookies
    assert Session.objects.count() == 0
