"""Regression: with Redis unreachable the cache misses instead of failing every API request."""

from __future__ import annotations

import logging

import pytest

from skywatch.cache import ForgivingRedisCache
from tests.resilience.processes import release_port, take_port


@pytest.fixture
def unreachable_redis():
    """redis:// on a port of this suite's range that nothing listens on."""
    port = take_port()
    ForgivingRedisCache._warned_at = None
    yield f"redis://127.0.0.1:{port}/0"
    ForgivingRedisCache._warned_at = None
    release_port(port)


def test_every_cache_operation_falls_back_while_redis_is_unreachable(unreachable_redis, caplog):
    cache = ForgivingRedisCache(unreachable_redis, {"OPTIONS": {"socket_connect_timeout": 1}})

    with caplog.at_level(logging.WARNING, logger="skywatch.cache"):
        assert cache.get("key", "fallback") == "fallback"
        cache.set("key", 1)
        assert cache.add("key", 1) is False
        assert cache.touch("key") is False
        assert cache.delete("key") is False
        assert cache.has_key("key") is False
        assert cache.get_many(["key", "other"]) == {}
        assert cache.set_many({"key": 1, "other": 2}) == ["key", "other"]
        cache.delete_many(["key", "other"])
        assert cache.get_or_set("key", 5) == 5

    # Said once, not at every call: an outage must not flood the logs.
    assert len(caplog.records) == 1
    assert "unreachable" in caplog.records[0].getMessage()


@pytest.mark.django_db
def test_the_api_answers_while_the_cache_redis_is_down(alice_client, settings, unreachable_redis):
    settings.CACHES = {
        "default": {
            "BACKEND": "skywatch.cache.ForgivingRedisCache",
            "LOCATION": unreachable_redis,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    # The plan throttle reads and writes the cache on every call: it fails open meanwhile.
    response = alice_client.get("/api/subscriptions")

    assert response.status_code == 200, response.content
