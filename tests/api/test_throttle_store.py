"""The API rate limits' counters: one sliding window per caller, and calls let through while
their Redis is away (as the forgiving cache does for the rest)."""

from __future__ import annotations

import logging

import pytest

from skywatch.api import throttles
from tests.api.conftest import bearer_client, error_of
from tests.deploy.ports import free_port


@pytest.fixture
def unreachable_redis(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    throttles.WindowThrottle._warned_at = None


def test_drf_rate_texts_become_windows():
    assert throttles.rate_item("5/m").amount == 5
    assert throttles.rate_item("5/m").get_expiry() == 60
    assert throttles.rate_item("100/hour").get_expiry() == 3600
    assert throttles.rate_item("2/day").get_expiry() == 86400
    for bad in ("lots", "0/minute", "-1/minute", "5/fortnight", "5"):
        with pytest.raises((ValueError, KeyError, IndexError)):
            throttles.rate_item(bad)


def test_while_redis_is_away_calls_go_through_and_it_is_said_once(alice, unreachable_redis, caplog):
    alice_api = bearer_client(alice)
    with caplog.at_level(logging.WARNING, logger="skywatch.api.throttles"):
        answers = [alice_api.get("/api/me").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1


def test_each_caller_has_a_window_of_their_own(alice, bob):
    from billing.models import Plan

    Plan.objects.filter(slug__in=["basic", "premium"]).update(api_rate="2/minute")
    alice_api, bob_api = bearer_client(alice), bearer_client(bob)
    assert [alice_api.get("/api/me").status_code for _ in range(2)] == [200, 200]
    error_of(alice_api.get("/api/me"), status=429, code="throttled")

    assert bob_api.get("/api/me").status_code == 200
    throttles.reset()
    assert alice_api.get("/api/me").status_code == 200
