"""The OpenAPI document, the Swagger UI, and schemathesis fuzzing every operation against it."""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings

from billing.models import Plan
from skywatch.accounts.services import jwt_pair
from tests.factories import UserFactory

CONTRACT_OPERATIONS = {
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/tokens"),
    ("post", "/api/tokens"),
    ("delete", "/api/tokens/{token_id}"),
    ("get", "/api/me"),
    ("patch", "/api/me"),
    ("post", "/api/me/share"),
    ("get", "/api/me/export"),
    ("delete", "/api/me"),
    ("get", "/api/weather"),
    ("get", "/api/history"),
    ("delete", "/api/history"),
    ("get", "/api/cities/search"),
    ("get", "/api/subscriptions"),
    ("post", "/api/subscriptions"),
    ("delete", "/api/subscriptions/{subscription_id}"),
    ("get", "/api/subscriptions/{subscription_id}/observations"),
    ("post", "/api/subscriptions/{subscription_id}/refresh"),
}


# Small enough for `make test` on two cores (about a minute); raise it for a deeper hunt.
FUZZ_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))


def openapi_document() -> dict:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


def test_the_schema_and_the_docs_are_open_to_anyone(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert client.get("/api/schema").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
    assert (
        client.get(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        ).status_code
        == 200
    )


def test_the_schema_builds_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "api.yaml")
    )


def test_every_contract_endpoint_is_documented_with_its_errors():
    document = openapi_document()
    operations = {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) >= CONTRACT_OPERATIONS
    for key, operation in operations.items():
        responses = operation["responses"]
        assert any(status.startswith("2") for status in responses), key
        assert "429" in responses, key
        if key[1].startswith("/api/auth/"):
            assert operation["security"] == [{}], key
        else:
            assert "401" in responses, key
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, key
    assert document["components"]["securitySchemes"]["apiTokenAuth"]["name"] == "X-API-Token"
    assert document["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


# JSON Schema cannot say "not a common password", "a city the provider knows" or "start is not
# after end", "a metric this source has" (alerts) or "a push service on a public address": for
# those operations a 400 from the API is the contract (CONTRACT.md), not a bug.
FUZZ_CONFIG = schemathesis.config.SchemathesisConfig.from_str(
    """
[[operations]]
include-operation-id = ["auth_register_create", "subscriptions_create", "subscriptions_observations_retrieve", "me_destroy", "alerts_create", "alerts_partial_update", "push_subscriptions_create"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
"""
)
schema = schemathesis.openapi.from_dict(openapi_document(), config=FUZZ_CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def _keep_the_test_connection():
    """Like Django's test client: a request's end must not close the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzing_user(db, settings, _keep_the_test_connection):
    """A premium account with a rate no fuzzer reaches, and a valid access token."""
    settings.API_AUTH_RATE = "100000/minute"
    Plan.objects.filter(slug="premium").update(api_rate="100000/minute")
    user = UserFactory(email="fuzz@example.com", plan_id="premium")
    return {"Authorization": f"Bearer {jwt_pair(user=user)['access']}"}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_the_api_keeps_to_its_schema(case, fuzzing_user):
    case.call_and_validate(headers=fuzzing_user)
