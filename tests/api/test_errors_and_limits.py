from __future__ import annotations

import json
from unittest.mock import ANY

import pytest
from django.test import Client

from billing.models import Plan
from tests.api.conftest import bearer_client, error_of

AUTHENTICATED_ENDPOINTS = [
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("post", "/api/me/share"),
    ("get", "/api/tokens"),
    ("post", "/api/tokens"),
    ("delete", "/api/tokens/1"),
    ("get", "/api/weather?city=Oslo"),
    ("get", "/api/history"),
    ("delete", "/api/history"),
    ("get", "/api/cities/search?q=Oslo"),
    ("get", "/api/subscriptions"),
    ("post", "/api/subscriptions"),
    ("get", "/api/subscriptions/1"),
    ("delete", "/api/subscriptions/1"),
    ("get", "/api/subscriptions/1/observations"),
    ("post", "/api/subscriptions/1/refresh"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ENDPOINTS)
def test_every_endpoint_wants_credentials(api, method, path):
    response = getattr(api, method)(path)
    error_of(response, status=401, code="not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ENDPOINTS)
def test_a_bad_bearer_token_is_authentication_failed(api, method, path):
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    error_of(getattr(api, method)(path), status=401, code="authentication_failed")


@pytest.mark.parametrize(
    "path", ["/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout"]
)
def test_auth_endpoints_answer_without_trailing_slash_and_with_one(api, path):
    for url in (path, path + "/"):
        response = api.post(url, {})
        assert response.status_code == 400, (url, response.status_code)
        assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_ENDPOINTS)
def test_no_path_redirects_with_or_without_slash(alice_api, method, path):
    base, _, query = path.partition("?")
    for url in (base, base + "/"):
        response = getattr(alice_api, method)(url + ("?" + query if query else ""))
        assert response.status_code not in (301, 302, 307, 308), url
        assert response.status_code == 204 or response["Content-Type"] == "application/json"


def test_unknown_paths_are_json_404_for_every_method(alice_api, api):
    for client in (alice_api, api, Client(enforce_csrf_checks=True)):
        for method in ("get", "post", "put", "patch", "delete"):
            error_of(getattr(client, method)("/api/no/such/thing"), status=404, code="not_found")


def test_a_wrong_method_is_405(alice_api):
    response = alice_api.put("/api/me", {})
    error_of(response, status=405, code="method_not_allowed")
    assert "PATCH" in response["Allow"]
    error_of(alice_api.delete("/api/auth/login"), status=405, code="method_not_allowed")


def test_a_body_that_is_not_json_is_refused(alice_api):
    error_of(
        alice_api.post("/api/tokens", "name=x", content_type="application/x-www-form-urlencoded"),
        status=415,
        code="invalid",
    )
    error_of(
        alice_api.post("/api/tokens", "{oops", content_type="application/json"),
        status=400,
        code="invalid",
    )
    error_of(alice_api.post("/api/tokens", [1, 2], format="json"), status=400, code="invalid")


def test_an_unexpected_crash_is_a_500_without_internals(alice_api, monkeypatch, caplog):
    def crash(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("subscriptions.selectors.subscription_list_as_dicts", crash)
    body = error_of(alice_api.get("/api/subscriptions"), status=500, code="server_error")
    assert "secret" not in body["message"]
    assert "secret internals" in caplog.text


def test_a_bad_host_under_api_keeps_the_format(alice_api):
    error_of(alice_api.get("/api/me", HTTP_HOST="evil.example"), status=400, code="invalid")


def test_session_callers_need_csrf_for_writes(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/api/me").status_code == 200
    error_of(
        browser.post("/api/tokens", {"name": "x"}, content_type="application/json"),
        status=403,
        code="permission_denied",
    )
    browser.get("/dashboard/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/api/tokens", {"name": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201


def test_api_calls_are_throttled_by_the_plan_row(alice, bob):
    Plan.objects.filter(slug="basic").update(api_rate="3/minute")
    Plan.objects.filter(slug="premium").update(api_rate="6/minute")
    alice_api, bob_api = bearer_client(alice), bearer_client(bob)
    for _ in range(3):
        assert alice_api.get("/api/me").status_code == 200
    response = alice_api.get("/api/me")
    error_of(response, status=429, code="throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    for _ in range(6):
        assert bob_api.get("/api/me").status_code == 200
    error_of(bob_api.get("/api/history"), status=429, code="throttled")


def test_an_unreadable_plan_rate_falls_back_to_60_a_minute_rather_than_crashing(alice_api, caplog):
    Plan.objects.filter(slug="basic").update(api_rate="lots")

    answers = [alice_api.get("/api/me").status_code for _ in range(60)]
    over = alice_api.get("/api/me")

    assert answers == [200] * 60
    error_of(over, status=429, code="throttled")
    assert 1 <= int(over["Retry-After"]) <= 60
    assert "unreadable api_rate 'lots'" in caplog.text


def test_anonymous_auth_calls_are_throttled_per_address(api, settings):
    settings.API_AUTH_RATE = "2/minute"
    for _ in range(2):
        api.post("/api/auth/refresh", {"refresh": "x"})
    response = api.post("/api/auth/refresh", {"refresh": "x"})
    error_of(response, status=429, code="throttled")
    assert response["Retry-After"]
    assert (
        api.post("/api/auth/refresh", {"refresh": "x"}, REMOTE_ADDR="10.9.9.9").status_code == 401
    )


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        ("bad_request", 400, "invalid"),
        ("permission_denied", 403, "permission_denied"),
        ("page_not_found", 404, "not_found"),
        ("server_error", 500, "server_error"),
    ],
)
def test_django_error_pages_keep_the_format_under_api_only(rf, handler, status, code):
    from skywatch import urls

    view = getattr(urls, f"handler{status}")
    assert view.__name__ == handler
    args = () if status == 500 else (Exception("boom"),)
    response = view(rf.get("/api/me"), *args)
    assert response.status_code == status
    assert json.loads(response.content) == {"code": code, "message": ANY, "field": None}
    page = view(rf.get("/dashboard/"), *args)
    assert page.status_code == status
    assert not page["Content-Type"].startswith("application/json")
