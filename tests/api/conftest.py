"""API test helpers: JWT clients for the shared world, a clean cache, the error-format check."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from skywatch.accounts.services import jwt_pair
from skywatch.api import throttles


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters live in the cache; every test starts with none."""
    cache.clear()
    throttles.reset()
    yield
    cache.clear()
    throttles.reset()


def error_of(response, *, status: int, code: str, field: str | None = None) -> dict:
    """Assert the one error format (and nothing else at the top level) and return it."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "field"}, body
    assert body["code"] == code, body
    assert body["field"] == field, body
    assert body["message"]
    return body


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {jwt_pair(user=user)['access']}")
    return client


@pytest.fixture
def api(db):
    """An anonymous API client (JSON bodies by default)."""
    return APIClient()


@pytest.fixture
def alice_api(alice):
    return bearer_client(alice)


@pytest.fixture
def bob_api(bob):
    return bearer_client(bob)


@pytest.fixture
def charlie_api(charlie):
    return bearer_client(charlie)
