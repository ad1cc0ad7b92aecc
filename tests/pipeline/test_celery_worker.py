"""Real Celery workers (subprocesses on Redis and PostgreSQL) share one budget over loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from skywatch.celery import app as celery_app
from subscriptions.models import City
from subscriptions.tasks import refresh_followed_cities_task
from tests.pipeline.fakes import LOOPBACK_URL_ENV, LoopbackWeather

ROOT = Path(__file__).resolve().parents[2]
PORT = 8131
BUDGET = "6 per 2 seconds"
WORKER = (
    "from weather_provider.registry import PROVIDERS;"
    "PROVIDERS['loopback'] = 'tests.pipeline.fakes.LoopbackProvider';"
    "from celery.__main__ import main; main()"
)

WORKER_COMMAND = [sys.executable, "-c", WORKER, "-A", "skywatch", "worker", "--pool", "solo"]
WORKER_COMMAND += [
    "--loglevel",
    "INFO",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
]

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def loopback():
    with LoopbackWeather(port=PORT, budget=BUDGET) as server:
        yield server


@pytest.fixture
def workers(loopback, use_provider, tmp_path):
    """Two `celery worker` processes on this test database, reading from the loopback API."""
    use_provider("loopback", budget=BUDGET)
    celery_app.control.purge()
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "WEATHER_PROVIDER": "loopback",
        "PROVIDER_RATE_LIMIT": BUDGET,
        LOOPBACK_URL_ENV: loopback.url,
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
    }
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    processes = [
        subprocess.Popen(
            [*WORKER_COMMAND, "-n", f"pipeline{n}@%h"],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n, log in zip((1, 2), logs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 90
        while not all("ready." in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "workers did not start:\n" + logs[0].read_text()
            assert all(p.poll() is None for p in processes), logs[0].read_text()[-3000:]
            time.sleep(0.2)
        yield logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_two_celery_workers_refresh_every_followed_city_within_one_budget(
    workers, loopback, follow
):
    cities = follow(12)
    pks = [city.pk for city in cities]

    refresh_followed_cities_task.delay()

    deadline = time.monotonic() + 60
    while City.objects.filter(pk__in=pks, latest__isnull=False).count() < len(pks):
        assert time.monotonic() < deadline, workers[0].read_text()[-3000:]
        time.sleep(0.5)
    stats = loopback.stats()
    assert stats["refused"] == []
    assert sorted(city for _, ids, _ in stats["calls"] for city in ids) == sorted(pks)
    assert len({pid for _, _, pid in stats["calls"]}) == 2
    times = [at for at, _, _ in stats["calls"]]
    # 6 calls per 2 seconds: 12 calls need a second window, whichever worker makes them.
    assert max(times) - min(times) >= 2.0
