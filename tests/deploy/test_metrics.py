"""Metrics for operators: what the processes count, what the exporter reads at scrape time and
serves from the multiprocess files of a role, on a port of its own."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry

from skywatch import metrics, metrics_exporter
from tests.deploy.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def parse(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.django_db
def test_every_answered_request_is_counted_by_view_and_status(client):
    before = sample("skywatch_http_requests_total", method="GET", view="landing", status="200")

    response = client.get("/")

    assert response.status_code == 200
    after = sample("skywatch_http_requests_total", method="GET", view="landing", status="200")
    assert after == before + 1
    assert sample("skywatch_http_request_duration_seconds_count", method="GET", view="landing") > 0


def test_a_429_answer_counts_as_a_throttle_and_an_unknown_path_stays_one_label():
    middleware = metrics.RequestMetricsMiddleware(lambda request: HttpResponse(status=429))
    before = sample("skywatch_throttled_requests_total", view="unmatched")

    middleware(RequestFactory().get("/no/such/page/42"))
    middleware(RequestFactory().get("/no/such/page/43"))

    assert sample("skywatch_throttled_requests_total", view="unmatched") == before + 2


async def test_open_websockets_go_up_on_connect_and_down_on_disconnect(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from skywatch.routing import build_router

    before = sample("skywatch_websockets_open")
    socket = WebsocketCommunicator(build_router(None), "/ws/weather/")
    connected, _ = await socket.connect()
    assert connected
    during = sample("skywatch_websockets_open")
    await socket.disconnect()

    assert during == before + 1
    assert sample("skywatch_websockets_open") == before


@pytest.mark.services
@pytest.mark.django_db
def test_refresh_tasks_count_cycles_batches_and_stored_readings():
    from subscriptions.tasks import city_batch_refresh_task, refresh_followed_cities_task

    cycles = sample("skywatch_refresh_cycles_total", outcome="idle")
    batches = sample("skywatch_refresh_batches_total", outcome="ok")
    tasks = sample(
        "skywatch_celery_tasks_total", task=refresh_followed_cities_task.name, state="success"
    )

    refresh_followed_cities_task.apply()
    city_batch_refresh_task.apply(args=([], None))

    assert sample("skywatch_refresh_cycles_total", outcome="idle") == cycles + 1
    assert sample("skywatch_refresh_batches_total", outcome="ok") == batches + 1
    assert (
        sample(
            "skywatch_celery_tasks_total", task=refresh_followed_cities_task.name, state="success"
        )
        == tasks + 1
    )


def scrape_in_a_thread(registry) -> dict:
    """As the exporter does: each scrape in a thread of its own, with its own connection."""
    result = {}
    thread = threading.Thread(
        target=lambda: result.update(parse(generate_latest(registry).decode()))
    )
    thread.start()
    thread.join(30)
    return result


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_state_collector_reads_refresh_lag_circuit_and_budget_at_scrape_time(settings):
    from subscriptions.planning import LAST_SUCCESS_KEY
    from weather_provider.breaker import breaker_for

    settings.WEATHER_PROVIDER = "random"
    registry = CollectorRegistry()
    registry.register(metrics_exporter.StateCollector())
    cache.delete(LAST_SUCCESS_KEY)
    breaker_for("random").reset()

    never = scrape_in_a_thread(registry)
    cache.set(LAST_SUCCESS_KEY, (timezone.now() - dt.timedelta(seconds=42)).isoformat())
    breaker = breaker_for("random")
    for _ in range(breaker.threshold):
        breaker.record_failure()
    failing = scrape_in_a_thread(registry)
    breaker_for("random").reset()
    cache.delete(LAST_SUCCESS_KEY)

    assert never[("skywatch_state_up", ())] == 1
    assert never[("skywatch_refresh_state", (("state", "never"),))] == 1
    assert ("skywatch_refresh_lag_seconds", ()) not in never
    assert never[("skywatch_provider_circuit_open", (("provider", "random"),))] == 0
    limit = [
        value for (name, _), value in never.items() if name == "skywatch_provider_budget_limit"
    ]
    assert limit
    assert all(value > 0 for value in limit)
    assert 42 <= failing[("skywatch_refresh_lag_seconds", ())] < 60
    assert failing[("skywatch_refresh_state", (("state", "fresh"),))] == 1
    assert failing[("skywatch_provider_circuit_open", (("provider", "random"),))] == 1


def python_env(directory: Path) -> dict[str, str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'platform'}"
    return env


def test_the_exporter_sums_every_process_and_forgets_the_websockets_of_dead_ones(tmp_path):
    env = python_env(tmp_path)
    record = (
        "from skywatch import metrics; metrics.READINGS_STORED.inc(3); metrics.websocket_opened();"
        "metrics.alert_delivered(channel='email', ok=False)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], env=env, check=True, timeout=60)
    port = free_port()
    exporter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skywatch.metrics_exporter",
            "--role",
            "worker",
            "--port",
            str(port),
        ],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                break
            except requests.ConnectionError:
                assert exporter.poll() is None, exporter.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        exporter.send_signal(signal.SIGTERM)
        code = exporter.wait(10)

    found = parse(text)
    assert found[("skywatch_readings_stored_total", ())] == 6
    assert found[("skywatch_websockets_open", ())] == 0  # both processes have exited
    assert (
        found[("skywatch_alert_deliveries_total", (("channel", "email"), ("outcome", "failed")))]
        == 2
    )
    assert ("skywatch_state_up", ()) not in found  # the worker's exporter reads no shared state
    assert code == 0


def test_the_exporter_refuses_to_start_without_a_multiprocess_directory(tmp_path):
    env = python_env(tmp_path / "missing")
    result = subprocess.run(
        [sys.executable, "-m", "skywatch.metrics_exporter", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr


async def test_under_asgi_the_middleware_counts_asynchronously_and_static_files_are_one_label():
    async def answer(request):
        return HttpResponse(status=304)

    middleware = metrics.RequestMetricsMiddleware(answer)
    before = sample("skywatch_http_requests_total", method="GET", view="static", status="304")

    response = await middleware(RequestFactory().get("/static/css/skywatch.0123456789ab.css"))

    assert response.status_code == 304
    assert sample("skywatch_http_requests_total", method="GET", view="static", status="304") == (
        before + 1
    )


def test_the_helpers_for_code_elsewhere_count_provider_calls_throttles_cycles_and_alerts():
    from celery import signals

    counted = {
        ("skywatch_provider_calls_total", (("outcome", "error"), ("provider", "p"))): 0.0,
        ("skywatch_provider_throttles_total", (("provider", "p"), ("reason", "budget"))): 0.0,
        ("skywatch_refresh_cycles_total", (("outcome", "failed"),)): 0.0,
        ("skywatch_alert_deliveries_total", (("channel", "webpush"), ("outcome", "ok"))): 0.0,
        ("skywatch_celery_tasks_published_total", (("task", "skywatch.test"),)): 0.0,
    }
    for name, labels in counted:
        counted[(name, labels)] = sample(name, **dict(labels))

    metrics.provider_call(provider="p", ok=False)
    metrics.provider_throttled(provider="p", reason="budget")
    metrics.refresh_cycle_finished(outcome="failed")
    metrics.alert_delivered(channel="webpush", ok=True)
    signals.after_task_publish.send(sender="skywatch.test")

    for (name, labels), before in counted.items():
        assert sample(name, **dict(labels)) == before + 1, name


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_state_collector_says_when_it_cannot_read_the_state(settings):
    settings.WEATHER_PROVIDER = "no-such-provider"
    registry = CollectorRegistry()
    registry.register(metrics_exporter.StateCollector())

    found = scrape_in_a_thread(registry)

    assert found == {("skywatch_state_up", ()): 0.0}


def test_the_exporter_registry_sums_the_files_and_adds_the_state_only_when_asked(tmp_path):
    record = "from skywatch import metrics; metrics.READINGS_STORED.inc(2)"
    subprocess.run([sys.executable, "-c", record], env=python_env(tmp_path), check=True, timeout=60)

    worker = parse(
        generate_latest(
            metrics_exporter.exporter_registry(path=str(tmp_path), state=False)
        ).decode()
    )

    assert worker[("skywatch_readings_stored_total", ())] == 2
    registry = metrics_exporter.exporter_registry(path=str(tmp_path), state=True)
    assert any(isinstance(c, metrics_exporter.StateCollector) for c in registry._collector_to_names)
