"""PostgreSQL briefly unavailable behind a TCP proxy: /readyz says so, the API fails cleanly and
fast, and the same server process recovers by itself when the database is back."""

from __future__ import annotations

import time

import pytest
import requests
from django.db import connection

from skywatch.accounts.services import api_token_create
from tests.factories import CityFactory, SubscriptionFactory
from tests.resilience.processes import release_port, take_port, wait_until
from tests.resilience.proxy import TcpProxy

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CONNECT_TIMEOUT = 2  # DATABASE_CONNECT_TIMEOUT: how long a connection attempt may hang
BOUND = CONNECT_TIMEOUT + 3  # no request may take longer than this during the outage
ERROR_KEYS = {"code", "message", "field"}
INTERNALS = ("OperationalError", "psycopg", "Traceback", "5432", "connection", "postgres")


@pytest.fixture
def database_proxy(transactional_db):
    settings = connection.settings_dict
    port = take_port()
    target = (settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))
    try:
        with TcpProxy(port=port, target=target) as proxy:
            yield proxy
    finally:
        release_port(port)


@pytest.fixture
def production_web(processes, database_proxy):
    """`docker/start-web` with production settings, reaching PostgreSQL through the proxy."""
    settings = connection.settings_dict
    proxied = f"postgres://{settings['USER'] or 'postgres'}@127.0.0.1:{database_proxy.port}"
    return processes.web(
        DJANGO_ENV="prod",
        DJANGO_SETTINGS_MODULE="skywatch.settings",
        DJANGO_SECRET_KEY="resilience-test-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{proxied}/{settings['NAME']}",
        DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        WEATHER_PROVIDER="random",
    )


@pytest.fixture
def token(alice):
    SubscriptionFactory(user=alice, city=CityFactory(name="London"))
    _, raw = api_token_create(user=alice, name="resilience")
    return raw


def timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=BOUND + 5, **kwargs)
    return response, time.monotonic() - started


def assert_clean_api_error(response: requests.Response) -> None:
    assert response.status_code in (500, 503), response.text
    assert set(response.json()) == ERROR_KEYS, response.text
    assert response.json()["code"] in ("server_error", "service_unavailable")
    assert not any(word in response.text for word in INTERNALS), response.text


@pytest.mark.parametrize("outage", ["refuse", "blackhole"])
def test_a_database_outage_is_reported_fails_cleanly_and_heals_without_a_restart(
    outage, production_web, database_proxy, token
):
    web, url = production_web
    api = {"X-API-Token": token}
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200
    assert requests.get(f"{url}/api/subscriptions", headers=api, timeout=10).status_code == 200
    pid = web.pid

    # refuse: the server is gone (connections refused); blackhole: packets go nowhere.
    getattr(database_proxy, outage)()
    ready, ready_seconds = timed("GET", f"{url}/readyz")
    listed, listed_seconds = timed("GET", f"{url}/api/subscriptions", headers=api)
    added, added_seconds = timed(
        "POST", f"{url}/api/subscriptions", json={"city": "Oslo"}, headers=api
    )
    alive, _ = timed("GET", f"{url}/healthz")

    database_proxy.forward()
    wait_until(
        lambda: requests.get(f"{url}/readyz", timeout=10).status_code == 200,
        timeout=30,
        what="/readyz to be ready again",
    )
    after = [requests.get(f"{url}/api/subscriptions", headers=api, timeout=10) for _ in range(5)]
    subscribed = requests.post(
        f"{url}/api/subscriptions", json={"city": "Oslo"}, headers=api, timeout=10
    )

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert not any(word in ready.text for word in ("5432", str(database_proxy.port), "Traceback"))
    assert_clean_api_error(listed)
    assert_clean_api_error(added)
    assert max(ready_seconds, listed_seconds, added_seconds) < BOUND
    assert alive.status_code == 200  # liveness holds: nothing restarts the pod for this

    assert [r.status_code for r in after] == [200] * 5
    assert [item["city"]["name"] for item in after[-1].json()] == ["London"]
    assert subscribed.status_code == 201, subscribed.text
    assert web.running
    assert web.pid == pid  # recovered by itself, in the same process
