"""The image's start scripts, run outside Docker against the real PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from psycopg import sql

from tests.deploy.ports import free_port

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
CLOSED = "127.0.0.1:8129"  # nothing listens there


def database_urls() -> tuple[str, str]:
    """A scratch database next to DATABASE_URL's, and the server's maintenance database."""
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1].split("?")[0] + "_scripts"
    return f"{base}/{name}", f"{base}/postgres"


def role_env(**overrides: str) -> dict[str, str]:
    """What the image sets, minus Docker: prod settings, the venv first on PATH."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DJANGO_ENV": "prod",
        "DJANGO_SECRET_KEY": "start-scripts-test-key-" + "s3cr" * 12,
        "DJANGO_ALLOWED_HOSTS": "skywatch.example.com",
        "DATABASE_URL": database_urls()[0],
        "REDIS_URL": os.environ["REDIS_URL"],
        "WEATHER_PROVIDER": "random",
        "CELERY_WORKER_CONCURRENCY": "1",
    }
    for name in ("SENTRY_DSN", "DJANGO_SETTINGS_MODULE", "PYTHONPATH"):
        env.pop(name, None)
    env.update(overrides)
    return env


class Role:
    """One start script as a child process with its output in a file."""

    def __init__(self, script: str, log: Path, env: dict[str, str]) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(DOCKER / script)], env=env, stdout=output, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition, *, timeout: float = 30, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"exited early:\n{self.output()}"
            if condition():
                return
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A fresh database migrated by docker/start-migrate; dropped afterwards."""
    url, maintenance = database_urls()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    result = subprocess.run(
        [str(DOCKER / "start-migrate")],
        env=role_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    yield result
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_start_migrate_applies_migrations_and_creates_the_plans(migrated):
    assert migrated.returncode == 0, migrated.stderr
    assert "Applying accounts.0001_initial... OK" in migrated.stdout
    assert "basic" in migrated.stdout
    assert "premium" in migrated.stdout


def test_after_start_migrate_the_wait_for_migrations_check_passes(migrated):
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=ROOT,
        env={**role_env(), "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert check.returncode == 0, check.stdout + check.stderr


def test_start_web_serves_the_probes_without_migrating(migrated, tmp_path):
    port = free_port()
    web = Role("start-web", tmp_path / "web.log", role_env(PORT=str(port)))
    try:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        web.wait_for(answers, what="/healthz")
        for _ in range(3):
            ready = requests.get(f"{url}/readyz", timeout=10)
        # Every probe's channel is released again (one event loop: nothing else would).
        subscribed = redis.Redis.from_url(os.environ["REDIS_URL"]).pubsub_channels("*health.*")
        page = requests.get(f"{url}/", timeout=10, allow_redirects=False)
    finally:
        code = web.stop()

    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"database", "channel_layer", "broker"}
    assert subscribed == []
    assert page.status_code == 400  # the probes skip host validation; pages do not
    assert "Applying" not in web.output()
    assert '"logger": "uvicorn.error"' in web.output()  # JSON logs
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it.
    assert "Finished server process" in web.output()
    assert code in (0, -signal.SIGTERM)
    # With Redis, one uvicorn process per core unless WEB_CONCURRENCY says otherwise.
    assert web.output().count("Started server process") == len(os.sched_getaffinity(0))


def test_start_web_without_redis_runs_one_process(migrated, tmp_path):
    """Embedded mode keeps the scheduler, its budget and live updates in one process."""
    web, url = serve(tmp_path, REDIS_URL="")
    try:
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
    finally:
        web.stop()
    assert web.output().count("Started server process") == 1


def test_start_web_reports_each_dependency_that_is_down(tmp_path):
    port = free_port()
    env = role_env(
        PORT=str(port),
        DATABASE_URL=f"postgres://postgres@{CLOSED}/skywatch",
        REDIS_URL=f"redis://{CLOSED}/0",
    )
    web = Role("start-web", tmp_path / "web.log", env)
    try:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        web.wait_for(answers, what="/healthz")
        ready = requests.get(f"{url}/readyz", timeout=20)
    finally:
        web.stop()

    assert ready.status_code == 503
    assert ready.json()["down"] == ["database", "channel_layer", "broker"]


def test_start_worker_answers_celery_ping(migrated, tmp_path):
    name = f"deploy-test-{os.getpid()}@{os.uname().nodename}"
    env = role_env(CELERY_WORKER_NAME=name)
    worker = Role("start-worker", tmp_path / "worker.log", env)
    try:
        worker.wait_for(lambda: " ready." in worker.output(), what="the worker to be ready")
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "skywatch", "inspect", "ping", "-d", name],
            cwd=ROOT,
            env={**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"},
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        code = worker.stop()

    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "pong" in ping.stdout
    assert code == 0


def test_start_beat_starts_with_the_database_scheduler_and_stops(migrated, tmp_path):
    beat = Role("start-beat", tmp_path / "beat.log", role_env(LOG_LEVEL="DEBUG"))
    try:
        # Ticking means the scheduler is set up: a SIGTERM during its set-up can hang celery.
        beat.wait_for(lambda: "beat: Ticking" in beat.output(), what="beat to tick")
    finally:
        code = beat.stop()

    assert "django_celery_beat.schedulers.DatabaseScheduler" in beat.output()
    assert code == 0


def serve(tmp_path: Path, **overrides: str) -> tuple[Role, str]:
    """docker/start-web on a free port, answering /healthz; returns the role and its URL."""
    port = free_port()
    env = role_env(PORT=str(port), DJANGO_SECURE_SSL_REDIRECT="false", **overrides)
    web = Role("start-web", tmp_path / f"web-{port}.log", env)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    web.wait_for(answers, what="/healthz")
    return web, url


def login(url: str, email: str, password: str, forwarded_for: str) -> requests.Response:
    return requests.post(
        f"{url}/api/auth/login",
        json={"email": email, "password": password},
        headers={"Host": "skywatch.example.com", "X-Forwarded-For": forwarded_for},
        timeout=10,
    )


def register(url: str, email: str, password: str) -> None:
    response = requests.post(
        f"{url}/api/auth/register",
        json={"email": email, "password": password},
        headers={"Host": "skywatch.example.com"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


PASSWORD = "a long pass phrase 7"


def test_start_web_believes_no_client_chosen_x_forwarded_for(migrated, tmp_path):
    email = f"xff-{os.getpid()}@example.com"
    web, url = serve(tmp_path)
    try:
        register(url, email, PASSWORD)
        failures = [login(url, email, "wrong", f"203.0.113.{i}") for i in range(1, 6)]
        right = login(url, email, PASSWORD, "203.0.113.99")
    finally:
        web.stop()

    assert [f.status_code for f in failures[:4]] == [401] * 4
    # Five failures from one real address lock it out, whatever addresses the client claimed.
    assert failures[4].status_code == 429
    assert right.status_code == 429, right.text
    assert right.json()["code"] == "locked_out"


def test_start_web_believes_x_forwarded_for_from_the_configured_proxy_only(migrated, tmp_path):
    email = f"proxied-{os.getpid()}@example.com"
    # The test is the proxy in front: it connects from 127.0.0.1.
    web, url = serve(tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        register(url, email, PASSWORD)
        failures = [login(url, email, "wrong", "192.0.2.55") for _ in range(5)]
        locked = login(url, email, PASSWORD, "192.0.2.55")
        elsewhere = login(url, email, PASSWORD, "192.0.2.56")
    finally:
        web.stop()

    assert [f.status_code for f in failures[:4]] == [401] * 4
    assert failures[4].status_code == locked.status_code == 429
    assert elsewhere.status_code == 200, elsewhere.text


def test_with_metrics_port_a_role_serves_its_metrics_beside_it_until_it_stops(migrated, tmp_path):
    port = free_port()
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by a previous container")
    env = role_env(
        METRICS_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(directory), LOG_LEVEL="DEBUG"
    )
    beat = Role("start-beat", tmp_path / "beat.log", env)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        # Ticking means the scheduler is set up: a SIGTERM during its set-up can hang celery.
        beat.wait_for(lambda: "beat: Ticking" in beat.output(), what="beat to tick")

        def counted() -> bool:
            # Beat's process made its counters in the directory (CELERY_IMPORTS), the exporter
            # serves them (ticks are counted too: make image-check sees them).
            try:
                return "skywatch_readings_stored_total 0.0" in requests.get(url, timeout=2).text
            except requests.ConnectionError:
                return False

        beat.wait_for(counted, what="the beat's metrics")
    finally:
        code = beat.stop()

    assert code == 0
    assert not (directory / "counter_1.db").exists()  # emptied at start
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
        except requests.ConnectionError:
            break
        time.sleep(0.25)
    else:
        raise AssertionError("the exporter outlived its role")
