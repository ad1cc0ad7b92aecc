"""`python -m skywatch.metrics_exporter`: serves a role's metrics on a port of its own, summed over
the role's processes (prometheus-client's multiprocess files), and for the web role the refresh
pipeline's shared state read at scrape time, as /readyz reads it (docs/OPERATIONS.md)."""

from __future__ import annotations

import os
import sys

MULTIPROCESS_DIR_MISSING = (
    "skywatch.metrics_exporter: PROMETHEUS_MULTIPROC_DIR must name a directory"
)
if __name__ == "__main__" and not os.path.isdir(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")):
    # Before any metric is made: each would fail to open its file there.
    print(MULTIPROCESS_DIR_MISSING, file=sys.stderr)
    sys.exit(2)

import argparse  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import datetime  # noqa: E402

from prometheus_client.core import GaugeMetricFamily, Metric  # noqa: E402
from prometheus_client.registry import Collector, CollectorRegistry  # noqa: E402

# Every metric made here too, in this process's own files: each family shows, even at zero.
from skywatch import metrics  # noqa: E402, F401

logger = logging.getLogger(__name__)


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
    parser = argparse.ArgumentParser(
        prog="python -m skywatch.metrics_exporter", description=__doc__
    )
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
