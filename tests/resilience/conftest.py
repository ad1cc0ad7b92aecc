"""Fixtures for the resilience tests: a private Redis, the fake provider, the project's processes.

Every test runs against the test database (committed data, so the processes it starts see it)
and a redis-server of its own on a loopback port, so killing that Redis touches nobody else.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

from subscriptions import coordination, planning
from tests.resilience.fake_open_meteo import BATCH_ENV, PROVIDER_NAME, URL_ENV, FakeOpenMeteo
from tests.resilience.processes import (
    REDIS_SERVER,
    Processes,
    RedisServer,
    child_env,
    release_port,
    take_port,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CELERY_QUEUE = "celery"
# kombu's Redis transport keeps delivered, not yet acknowledged messages here.
UNACKED = "unacked"


def database_url() -> str:
    """The test database as the processes the tests start should reach it."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "postgres")
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own, on a loopback port."""
    if not Path(REDIS_SERVER).exists():
        message = f"{REDIS_SERVER} is missing (apt-get install redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    port = take_port()
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = RedisServer(port=port, workdir=workdir)
    try:
        yield server.start()
    finally:
        server.stop()
        release_port(port)


@pytest.fixture
def fake_open_meteo():
    port = take_port()
    try:
        with FakeOpenMeteo(port=port) as fake:
            yield fake
    finally:
        release_port(port)


@pytest.fixture
def processes(transactional_db, redis_server, tmp_path):
    """Start web servers and workers on the test database and the private Redis; all stopped
    at teardown, whatever happened."""
    env = child_env(DATABASE_URL=database_url(), REDIS_URL=redis_server.url)
    started = Processes(workdir=tmp_path, env=env)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def pipeline(processes, fake_open_meteo):
    """Workers read from the fake Open-Meteo, 4 cities a call, with a budget that never binds."""
    processes.env.update(
        {
            "WEATHER_PROVIDER": PROVIDER_NAME,
            "PROVIDER_RATE_LIMIT": "6000/minute",
            URL_ENV: fake_open_meteo.url,
            BATCH_ENV: "4",
        }
    )
    return processes


class Beat:
    """Sends the periodic refresh task to the private broker, as Celery beat does each interval."""

    def __init__(self, redis_server: RedisServer) -> None:
        self.redis = redis_server.client()
        self.app = Celery("resilience-beat", broker=redis_server.url, set_as_current=False)

    def tick(self) -> None:
        self.app.send_task(planning.PERIODIC_TASK)

    def idle(self) -> bool:
        """No task queued or running, and no cycle in progress."""
        return (
            self.redis.llen(CELERY_QUEUE) == 0
            and self.redis.hlen(UNACKED) == 0
            and not self.redis.exists(coordination.PENDING_KEY, coordination.CYCLE_LOCK_KEY)
        )

    def close(self) -> None:
        self.app.close()
        self.redis.close()


@pytest.fixture
def beat(redis_server):
    ticker = Beat(redis_server)
    yield ticker
    ticker.close()
