"""Prometheus metrics for operators, served on a port of their own, never the public one.

Each process of a role records into prometheus-client's multiprocess files when
PROMETHEUS_MULTIPROC_DIR is set (the image's start scripts set it when METRICS_PORT is set);
`python -m skywatch.metrics_exporter`, started beside the role by docker/common.sh, serves
their sum on METRICS_PORT; the web role's exporter also reads the refresh pipeline's shared state
at scrape time, as /readyz does (last success and lag, plan, circuit and budget).

Counted in the processes: HTTP requests and throttles (RequestMetricsMiddleware), open
websockets (notifications.consumers), Celery tasks, refresh cycles, batches and stored readings
(Celery's task signals, imported by the worker and beat through CELERY_IMPORTS). Defined here
and called from the code that knows (see docs/OPERATIONS.md): provider calls and throttles,
embedded refresh cycles, alert deliveries.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import signals as celery_signals
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)

REFRESH_CYCLE_TASK = "subscriptions.tasks.refresh_followed_cities_task"
REFRESH_BATCH_TASK = "subscriptions.tasks.city_batch_refresh_task"
# Ours alone, so the exporter serves only Skywatch's metrics.
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
