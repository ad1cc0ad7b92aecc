"""One shared test world: alice (owner), bob (teammate on premium), charlie (outsider)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.factories import UserFactory
from weather_provider.limiter import allowances_reset
from weather_provider.registry import reset_providers

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def missing_services() -> list[str]:
    """What the `services` tests need and this run lacks: PostgreSQL, and a Redis that answers."""
    missing = []
    if not _is_postgres():
        missing.append("DATABASE_URL (PostgreSQL)")
    if not settings.REDIS_URL:
        missing.append("REDIS_URL")
    elif not _redis_answers(settings.REDIS_URL):
        missing.append("a Redis answering at REDIS_URL")
    return missing


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need PostgreSQL and Redis; without them they skip, or with
    REQUIRE_SERVICES=1 (CI, `make test`) they fail, so the run fails instead of passing without them."""
    if not any("services" in item.keywords for item in items):
        return
    missing = missing_services()
    if not missing:
        return
    reason = "it needs " + " and ".join(missing)
    for item in items:
        if "services" in item.keywords:
            if REQUIRE_SERVICES:
                item.user_properties.append(("missing_services", reason))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item):
    for name, reason in item.user_properties:
        if name == "missing_services":
            pytest.fail(f"REQUIRE_SERVICES=1, and {reason}", pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_provider(settings):
    settings.WEATHER_PROVIDER = "random"
    reset_providers()
    # Accounts' on-demand allowances outlive a test in Redis; ids repeat in a new test database.
    allowances_reset()
    yield
    reset_providers()


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", plan_id="premium")


@pytest.fixture
def charlie(db):
    return UserFactory(email="charlie@example.com")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
