"""Prometheus metrics for operators, served on a port of their own, never the public one.

Each process of a role records into prometheus-client's multiprocess files when
PROMETHEUS_MULTIPROC_DIR is set (the image's start scripts set it when METRICS_PORT is set);
`python -m skywatch.metrics`, started beside the role by docker/common.sh, serves their sum on
METRICS_PORT. The web role's exporter also reads the refresh pipeline's shared state at scrape
time, as /readyz does: last success and lag, plan, circuit and budget, so no hot path changes.

Counted in the processes: HTTP requests and throttles (RequestMetricsMiddleware), open
websockets (notifications.consumers), Celery tasks, refresh cycles, batches and stored readings
(Celery's task signals, imported by the worker and beat through CELERY_IMPORTS). Defined here
and called from the code that knows (see docs/OPERATIONS.md): provider calls and throttles,
embedded refresh cycles, alert deliveries.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import signals as celery_signals
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR_MISSING = "skywatch.metrics: PROMETHEUS_MULTIPROC_DIR must name a directory"
if __name__ == "__main__" and not os.path.isdir(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")):
    # Before any metric is made: each would fail to open its file there.
    print(MULTIPROCESS_DIR_MISSING, file=sys.stderr)
    sys.exit(2)

REFRESH_CYCLE_TASK = "subscriptions.tasks.refresh_followed_cities_task"
REFRESH_BATCH_TASK = "subscriptions.tasks.city_batch_refresh_task"
# Ours alone: `python -m skywatch.metrics` loads this file twice (as __main__ and when imported).
REGISTRY = CollectorRegistry()
counter = partial(Counter, registry=REGISTRY)
gauge = partial(Gauge, registry=REGISTRY)
histogram = partial(Histogram, registry=REGISTRY)

# --- Recorded by the processes --------------------------------------------------------------

HTTP_REQUESTS = counter(
    "skywatch_http_requests",
    "HTTP requests answered, by method, view (URL name) and status code.",
    ["method", "view", "status"],
)
HTTP_REQUEST_SECONDS = histogram(
    "skywatch_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and view.",
    ["method", "view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
THROTTLED_REQUESTS = counter(
    "skywatch_throttled_requests",
    "Requests answered 429 (plan or auth rate, lockout, provider budget), by view.",
    ["view"],
)
WEBSOCKETS_OPEN = gauge(
    "skywatch_websockets_open",
    "Websockets open now, summed over the live web processes.",
    multiprocess_mode="livesum",
)
WEBSOCKETS_OPENED = counter("skywatch_websockets_opened", "Websockets accepted.")
CELERY_TASKS = counter(
    "skywatch_celery_tasks",
    "Celery tasks finished, by task and state (success, failure, retry).",
    ["task", "state"],
)
CELERY_TASK_SECONDS = histogram(
    "skywatch_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
CELERY_TASKS_PUBLISHED = counter(
    "skywatch_celery_tasks_published",
    "Celery tasks sent to the broker, by task (beat's ticks, the fan-out's batches).",
    ["task"],
)
REFRESH_CYCLES = counter(
    "skywatch_refresh_cycles",
    "Refresh cycles: queued (batches sent), idle (nothing to send or skipped), failed.",
    ["outcome"],
)
REFRESH_BATCHES = counter(
    "skywatch_refresh_batches", "Refresh batches run, by outcome (ok, failed).", ["outcome"]
)
READINGS_STORED = counter("skywatch_readings_stored", "Readings stored by refresh batches.")
PROVIDER_CALLS = counter(
    "skywatch_provider_calls",
    "Calls to the weather provider, by provider and outcome (ok, error).",
    ["provider", "outcome"],
)
PROVIDER_THROTTLES = counter(
    "skywatch_provider_throttles",
    "Provider calls held back, by provider and reason (budget: our budget was spent; "
    "retry_after: the provider asked us to wait; circuit_open: the breaker refused the call).",
    ["provider", "reason"],
)
ALERT_DELIVERIES = counter(
    "skywatch_alert_deliveries",
    "Alert deliveries, by channel (websocket, email, webpush, ...) and outcome (ok, failed).",
    ["channel", "outcome"],
)


def websocket_opened() -> None:
    """A websocket was accepted (notifications.consumers, connect)."""
    WEBSOCKETS_OPENED.inc()
    WEBSOCKETS_OPEN.inc()


def websocket_closed() -> None:
    """A websocket closed (notifications.consumers, disconnect)."""
    WEBSOCKETS_OPEN.dec()


def provider_call(*, provider: str, ok: bool) -> None:
    """One read from the provider ended (subscriptions.refresh.read_batch; its retries are one)."""
    PROVIDER_CALLS.labels(provider, "ok" if ok else "error").inc()


def provider_throttled(*, provider: str, reason: str) -> None:
    """A call was held back: `budget` (BudgetSpent), `retry_after` (the provider's wait) or
    `circuit_open` (the breaker refused it)."""
    PROVIDER_THROTTLES.labels(provider, reason).inc()


def refresh_cycle_finished(*, outcome: str) -> None:
    """A cycle ended outside Celery (the embedded scheduler): queued, idle or failed."""
    REFRESH_CYCLES.labels(outcome).inc()


def alert_delivered(*, channel: str, ok: bool) -> None:
    """One alert was delivered (or failed to be) through `channel`."""
    ALERT_DELIVERIES.labels(channel, "ok" if ok else "failed").inc()


# --- HTTP -----------------------------------------------------------------------------------


def view_label(request) -> str:
    """A bounded label: the URL's name (or view path), `static`, or `unmatched`."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    from django.conf import settings

    if request.path_info.startswith(settings.STATIC_URL or "/static/"):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    """Counts and times every answered request; first in MIDDLEWARE so redirects count too."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self.observe(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        self.observe(request, response, started)
        return response

    @staticmethod
    def observe(request, response, started: float) -> None:
        try:
            view = view_label(request)
            HTTP_REQUESTS.labels(request.method, view, str(response.status_code)).inc()
            HTTP_REQUEST_SECONDS.labels(request.method, view).observe(time.perf_counter() - started)
            if response.status_code == 429:
                THROTTLED_REQUESTS.labels(view).inc()
        except Exception:  # metrics never break a request
            logger.warning("Could not record request metrics", exc_info=True)


# --- Celery ---------------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def _on_task_prerun(task_id=None, **kwargs) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


def _on_task_postrun(task_id=None, task=None, retval=None, state=None, **kwargs) -> None:
    name = getattr(task, "name", None) or "unknown"
    started = _task_started.pop(task_id, None)
    try:
        CELERY_TASKS.labels(name, (state or "unknown").lower()).inc()
        if started is not None:
            CELERY_TASK_SECONDS.labels(name).observe(time.monotonic() - started)
        failed = state == "FAILURE"
        if name == REFRESH_CYCLE_TASK:
            REFRESH_CYCLES.labels("failed" if failed else "queued" if retval else "idle").inc()
        elif name == REFRESH_BATCH_TASK:
            REFRESH_BATCHES.labels("failed" if failed else "ok").inc()
            if not failed and isinstance(retval, int):
                READINGS_STORED.inc(retval)
    except Exception:
        logger.warning("Could not record task metrics", exc_info=True)


def _on_task_published(sender=None, **kwargs) -> None:
    CELERY_TASKS_PUBLISHED.labels(sender or "unknown").inc()


celery_signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="skywatch.metrics")
celery_signals.task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="skywatch.metrics")
celery_signals.after_task_publish.connect(
    _on_task_published, weak=False, dispatch_uid="skywatch.metrics"
)


# --- Read at scrape time (the exporter of the web role) -------------------------------------


def _timestamp(value) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _gauge(name: str, documentation: str, value: float | None, **labels: str) -> Metric | None:
    if value is None:
        return None
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), float(value))
    return family


class StateCollector(Collector):
    """The refresh pipeline's shared state (Redis, the database), read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from django.db import connections

        try:
            yield from self._collect()
        finally:
            # Each scrape runs in a thread of its own: its connection must not outlive it.
            connections.close_all()

    def _collect(self) -> Iterator[Metric]:
        from skywatch.health import STALE_AFTER_INTERVALS, scheduler_status

        status = scheduler_status()  # what /readyz reports; never raises
        up = status.get("state") != "unknown"
        yield _gauge("skywatch_state_up", "1 when the refresh state could be read.", up)
        if not up:
            return
        state = GaugeMetricFamily(
            "skywatch_refresh_state",
            f"1 for the scheduler's state: fresh, stale (no success for {STALE_AFTER_INTERVALS} "
            "effective intervals) or never.",
            labels=["state"],
        )
        for name in ("fresh", "stale", "never"):
            state.add_metric([name], 1.0 if status["state"] == name else 0.0)
        yield state
        last_success = _timestamp(status.get("last_success_at"))
        gauges = [
            (
                "skywatch_refresh_last_success_timestamp_seconds",
                "When a refresh last stored readings (or found nothing to do).",
                last_success,
            ),
            (
                "skywatch_refresh_lag_seconds",
                "Seconds since the last successful refresh.",
                None if last_success is None else max(0.0, time.time() - last_success),
            ),
            (
                "skywatch_refresh_last_cycle_timestamp_seconds",
                "When the last refresh cycle started.",
                _timestamp(status.get("last_cycle_at")),
            ),
            (
                "skywatch_refresh_interval_seconds",
                "The configured refresh interval.",
                status.get("interval_seconds"),
            ),
            (
                "skywatch_refresh_effective_interval_seconds",
                "How often each city actually comes round within the provider budget.",
                status.get("effective_interval_seconds"),
            ),
            (
                "skywatch_followed_cities",
                "Cities followed by someone.",
                status.get("followed_cities"),
            ),
            (
                "skywatch_refresh_cities_per_cycle",
                "Cities one cycle refreshes.",
                status.get("cities_per_cycle"),
            ),
        ]
        for name, documentation, value in gauges:
            metric = _gauge(name, documentation, value)
            if metric is not None:
                yield metric
        yield from self._provider(status)

    def _provider(self, status: dict) -> Iterator[Metric]:
        from weather_provider import get_provider
        from weather_provider.limiter import budget_for

        name = status.get("provider") or "unknown"
        open_seconds = status.get("circuit_open_seconds")
        if open_seconds is not None:
            yield _gauge(
                "skywatch_provider_circuit_open",
                "1 while the provider's circuit breaker is open (nobody calls it).",
                1.0 if open_seconds > 0 else 0.0,
                provider=name,
            )
            yield _gauge(
                "skywatch_provider_circuit_open_seconds",
                "Seconds until the provider's circuit closes (0 when closed).",
                open_seconds,
                provider=name,
            )
        try:
            budget = budget_for(get_provider())
            used = budget.used()
            paused = budget.paused_for()
        except Exception:
            logger.warning("Could not read the provider budget", exc_info=True)
            return
        used_family = GaugeMetricFamily(
            "skywatch_provider_budget_used",
            "Budget taken in each window of the provider budget right now.",
            labels=["provider", "window"],
        )
        limit_family = GaugeMetricFamily(
            "skywatch_provider_budget_limit",
            "What each window of the provider budget allows.",
            labels=["provider", "window"],
        )
        for window in budget.windows:
            label = re.sub(r"\s+", " ", str(window))
            used_family.add_metric([name, label], float(used.get(str(window), 0)))
            limit_family.add_metric([name, label], float(window.amount))
        yield used_family
        yield limit_family
        yield _gauge(
            "skywatch_provider_paused_seconds",
            "Seconds the provider asked every worker to wait (its Retry-After).",
            paused,
            provider=name,
        )


# --- The exporter ---------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LiveProcessesCollector(Collector):
    """The multiprocess sum, after dropping the live gauges of processes that have exited
    (a restarted web worker must not count its old websockets)."""

    def __init__(self, path: str) -> None:
        from prometheus_client import multiprocess

        self.path = path
        self.multiprocess = multiprocess
        self.inner = multiprocess.MultiProcessCollector(None, path=path)

    def collect(self) -> Iterator[Metric]:
        for filename in os.listdir(self.path):
            found = re.fullmatch(r"gauge_live\w+?_(\d+)\.db", filename)
            if found and not _alive(int(found.group(1))):
                self.multiprocess.mark_process_dead(int(found.group(1)), self.path)
        return self.inner.collect()


def exporter_registry(*, path: str, state: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(LiveProcessesCollector(path))
    if state:
        registry.register(StateCollector())
    return registry


def main(argv: list[str] | None = None) -> int:
    """Serve this role's metrics on --port until the process that started us is gone."""
    parser = argparse.ArgumentParser(prog="python -m skywatch.metrics", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--addr", default="0.0.0.0")  # noqa: S104 - the pod IP, for Prometheus
    parser.add_argument("--role", default="web")
    parser.add_argument(
        "--state",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also read the shared refresh state (default: for the web role only)",
    )
    args = parser.parse_args(argv)
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not path or not os.path.isdir(path):
        print(MULTIPROCESS_DIR_MISSING, file=sys.stderr)
        return 2
    state = args.role == "web" if args.state is None else args.state
    if state:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skywatch.settings")
        django.setup()
    from prometheus_client import start_http_server

    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server, _ = start_http_server(
        args.port, args.addr, registry=exporter_registry(path=path, state=state)
    )
    logger.info("Metrics of the %s role on %s:%d/metrics", args.role, args.addr, args.port)
    # The role exec'd into our parent's pid: when it exits we are re-parented, and go too.
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
