"""Provider budget: one refresh cycle of 10,000 followed cities against a fake Open-Meteo.

The fake (bench/fake_provider.py, its own process on loopback) enforces Open-Meteo's kind of
budget scaled down in time, every location counted: 1,000 a second (the minute window) and
10,000 a minute (the daily cap), answering 429 beyond it. 5,000 users follow 6 cities each,
10,000 cities in all (each followed by 3 people on average). Skywatch runs one cycle with
PROVIDER_RATE_LIMIT set to the same budget, in one process (the embedded scheduler and
fetch_weather path) and as Celery's fan-out to two worker processes sharing the budget in
Redis. The baseline is a naive client: the same 100 batches, two threads, no limiter, every
429 retried at once. Then a forecast cycle: the 10,000 cities' forecasts (48 hours, 7 days),
which Open-Meteo weighs 1.8 calls a location, against the minimum weight they can cost.

For each Skywatch run it also measures the jitter the limiter's safety margin must cover: the
delay from taking budget (the timestamps `limits` keeps in Redis for the budget's longest
window, time.time() of the taking worker) to the fake counting the call (its time.time() at
arrival, same machine clock), pairing takes and arrivals in order from the last one back.
With one process calls are sequential and the pairing is exact; with two workers two calls
close together may arrive in the other order, so it is a close estimate there.
"""

from __future__ import annotations

import math
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench import world
from bench.common import ROOT, server_env
from bench.fake_provider import BUDGET_ENV, URL_ENV
from tests.support.servers import free_port, process_stop, uvicorn_start, wait_for_port

TITLE = "Provider budget: one cycle of 10,000 followed cities"
BUDGET = "1000/second;10000/minute"
USERS, CITIES, PER_USER = 5000, 10_000, 6
NAIVE_THREADS = 2
SAMPLE_SECONDS = 0.01
WORKER_BOOT = (
    "from weather_provider.registry import PROVIDERS;"
    "PROVIDERS['open-meteo'] = 'bench.fake_provider.LoopbackOpenMeteo';"
    "from celery.__main__ import main; main()"
)


def start_fake(port: int, *, budget: str, log: Path) -> subprocess.Popen:
    """The fake provider in its own process."""
    process = uvicorn_start(
        "bench.fake_provider:app",
        port=port,
        env=server_env(**{BUDGET_ENV: budget}),
        log=log,
        options=("--log-level", "warning", "--no-access-log"),
    )
    wait_for_port(port, process)
    return process


def use_fake_provider(url: str, budget: str):
    """Point Skywatch's Open-Meteo provider at the fake, with `budget`; returns the provider."""
    from django.conf import settings

    from weather_provider.registry import PROVIDERS, get_provider, reset_providers

    os.environ[URL_ENV] = url
    PROVIDERS["open-meteo"] = "bench.fake_provider.LoopbackOpenMeteo"
    settings.WEATHER_PROVIDER = "open-meteo"
    settings.PROVIDER_RATE_LIMIT = budget
    settings.WEATHER_REFRESH_SECONDS = 300
    # The reading runs measure readings; the forecast run turns forecasts on for itself.
    settings.FORECAST_REFRESH_SECONDS = 0
    reset_providers()
    return get_provider()


def restore_provider() -> None:
    from weather_provider.registry import PROVIDERS, reset_providers

    PROVIDERS["open-meteo"] = "weather_provider.open_meteo.OpenMeteoProvider"
    reset_providers()


def reset_shared_state(provider, url: str) -> None:
    """A clean slate on both sides: the fake forgets its calls, Skywatch its budget and locks."""
    from tests.support.state import refresh_state_reset

    requests.post(f"{url}/reset", timeout=10).raise_for_status()
    refresh_state_reset(provider)


def window_fill(accepted: list, seconds: float, limit: int) -> float:
    """Mean share of the window in use, sampled from the first accepted call to the last."""
    if not accepted:
        return 0.0
    times = [at for at, _ in accepted]
    start, end = times[0], times[-1]
    samples, total, used, low, high = 0, 0.0, 0, 0, 0
    moment = start
    while moment <= end + 1e-9:
        while high < len(accepted) and accepted[high][0] <= moment:
            used += accepted[high][1]
            high += 1
        while low < high and accepted[low][0] <= moment - seconds:
            used -= accepted[low][1]
            low += 1
        total += used / limit
        samples += 1
        moment += SAMPLE_SECONDS
    return total / samples


def minimum_span(total: int, windows: list[dict]) -> float:
    """The shortest time from the first call to the last that no window forbids."""
    return max(w["seconds"] * (math.ceil(total / w["limit"]) - 1) for w in windows)


def figures(stats: dict, *, seconds: float, batch: int, cities: int) -> dict:
    """What the provider saw during one run, as the table and the JSON report it."""
    accepted, refused, windows = stats["accepted"], stats["refused"], stats["windows"]
    origin = min([a for a, _ in accepted] + [r for r, _, _ in refused], default=0.0)
    by_label = {w["label"]: w for w in windows}
    exceeded = {
        (label, math.floor((at - origin) / by_label[label]["seconds"])) for at, _, label in refused
    }
    shortest = min(windows, key=lambda w: w["seconds"])
    served = sum(w for _, w in accepted)
    minimum = minimum_span(served, windows)
    return {
        "calls": len(accepted) + len(refused),
        "minimum_calls": math.ceil(cities / batch),
        "refused_429": len(refused),
        "windows_exceeded": len(exceeded),
        "locations_served": served,
        "budget_used": window_fill(accepted, shortest["seconds"], shortest["limit"]),
        "budget_window": shortest["label"],
        "peak_cap_used": max(
            (
                window_fill_peak(accepted, w["seconds"]) / w["limit"]
                for w in windows
                if w is not shortest
            ),
            default=0.0,
        ),
        "seconds": seconds,
        "minimum_seconds": minimum,
        "provider_span": (accepted[-1][0] - accepted[0][0]) if accepted else 0.0,
    }


def window_fill_peak(accepted: list, seconds: float) -> int:
    """The most any window of `seconds` ever held."""
    peak, used, low = 0, 0, 0
    for at, weight in accepted:
        used += weight
        while accepted[low][0] <= at - seconds:
            used -= accepted[low][1]
            low += 1
        peak = max(peak, used)
    return peak


def budget_taken_at(provider) -> list[tuple[float, int]]:
    """When each call took budget (time.time() of the worker) and its weight, oldest first, as
    `limits` keeps them in Redis for the budget's longest window (its last `amount` units)."""
    from weather_provider.limiter import KEY_PREFIX, budget_for

    budget = budget_for(provider)
    if budget.client is None:
        return []
    window = max(budget.windows, key=lambda w: w.get_expiry())
    key = budget.storage.prefixed_key(window.key_for(KEY_PREFIX, budget.name))
    entries = [float(entry) for entry in reversed(budget.client.lrange(key, 0, -1))]
    taken: list[tuple[float, int]] = []
    for at in entries:  # one entry per unit of weight, all stamped alike by one call
        if taken and taken[-1][0] == at:
            taken[-1] = (at, taken[-1][1] + 1)
        else:
            taken.append((at, 1))
    if len(entries) >= window.amount and taken:
        taken = taken[1:]  # the oldest call may have been trimmed in part
    return taken


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def jitter(stats: dict, taken: list[tuple[float, int]]) -> dict | None:
    """Taking budget → the provider counting the call, in ms: p50, p99, max, min and the spread
    (max - min) the margin must cover; None when nothing pairs."""
    arrived = stats.get("arrived", [])
    pairs = min(len(arrived), len(taken))
    if not pairs:
        return None
    delays = [
        (got - at) * 1000 for got, (at, _) in zip(arrived[-pairs:], taken[-pairs:], strict=True)
    ]
    return {
        "pairs": pairs,
        "p50_ms": percentile(delays, 0.5),
        "p99_ms": percentile(delays, 0.99),
        "max_ms": max(delays),
        "min_ms": min(delays),
        "spread_ms": max(delays) - min(delays),
    }


def run_in_process() -> tuple[float, object]:
    """One cycle as the embedded scheduler runs it: refresh_followed_cities in this process."""
    from subscriptions.refresh import refresh_followed_cities

    started = time.monotonic()
    summary = refresh_followed_cities()
    return time.monotonic() - started, summary


def start_workers(url: str, logs: list[Path]) -> list[subprocess.Popen]:
    env = server_env(
        WEATHER_PROVIDER="open-meteo",
        PROVIDER_RATE_LIMIT=BUDGET,
        WEATHER_REFRESH_SECONDS="300",
        FORECAST_REFRESH_SECONDS="0",
        **{URL_ENV: url},
    )
    processes = []
    for n, log in enumerate(logs, start=1):
        log.write_text("")
        processes.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-c", WORKER_BOOT, "-A", "skywatch", "worker"),
                    *("--pool", "solo", "--loglevel", "INFO", "--without-gossip"),
                    *("--without-mingle", "--without-heartbeat", "-n", f"bench{n}@%h"),
                ],
                cwd=ROOT,
                env=env,
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 120
    while not all("ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            for process in processes:
                process_stop(process)
            raise RuntimeError("Celery workers did not start:\n" + logs[0].read_text()[-2000:])
        time.sleep(0.2)
    return processes


def run_forecasts() -> tuple[float, object]:
    """Every followed city's forecast now, as `fetch_weather --forecast` fetches them."""
    from django.conf import settings

    from subscriptions.refresh import refresh_followed_cities

    settings.FORECAST_REFRESH_SECONDS = 3600
    started = time.monotonic()
    summary = refresh_followed_cities(everything=True, readings=False, forecasts=True)
    settings.FORECAST_REFRESH_SECONDS = 0
    return time.monotonic() - started, summary


def minimum_weight(provider, cities: int, *, batch: int, kind: str) -> float:
    """What `cities` locations' calls of `kind` cost at the least, in whole batches."""
    from weather_provider.limiter import batches_weight

    return batches_weight(provider, cities, batch_size=batch, kind=kind)


def run_celery(url: str, logs: list[Path]) -> float:
    """One cycle as beat drives it: the fan-out queues batches, two workers read them."""
    from skywatch.celery import app as celery_app
    from subscriptions.coordination import pending_batches
    from subscriptions.refresh import refresh_fan_out
    from subscriptions.tasks import city_batch_refresh_task

    celery_app.control.purge()
    started = time.monotonic()
    queued = refresh_fan_out(
        enqueue=lambda ids, at, kind: city_batch_refresh_task.delay(ids, at, kind),
    )
    deadline = started + 300
    while pending_batches() > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending_batches()} of {queued} batches still pending")
        time.sleep(0.02)
    return time.monotonic() - started


def run_naive(provider, batches: list[list]) -> float:
    """The baseline: the same batches from two threads, no limiter, 429s retried at once."""
    from weather_provider.base import ProviderError

    work: queue.Queue = queue.Queue()
    for batch in batches:
        work.put(batch)
    deadline = time.monotonic() + 120

    def worker() -> None:
        while time.monotonic() < deadline:
            try:
                batch = work.get_nowait()
            except queue.Empty:
                return
            while time.monotonic() < deadline:
                try:
                    provider.current(batch)
                    break
                except ProviderError:
                    continue

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(NAIVE_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def run(*, log_dir: Path, ports: list[int]) -> dict:
    from subscriptions.models import City
    from weather_provider import FORECAST
    from weather_provider.base import Location
    from weather_provider.limiter import batch_size_for, batch_size_within, budget_for

    built = world.build(users=USERS, cities=CITIES, per_user=PER_USER)
    port = ports[0] if ports else free_port()
    fake = start_fake(port, budget=BUDGET, log=log_dir / "fake_provider.log")
    url = f"http://127.0.0.1:{port}"
    results: dict = {
        "budget": BUDGET,
        "users": USERS,
        "cities": CITIES,
        "subscriptions": built.subscriptions,
        "runs": {},
    }
    workers: list[subprocess.Popen] = []
    try:
        provider = use_fake_provider(url, BUDGET)
        batch = batch_size_within(provider, budget_for(provider).windows)
        results["batch"] = batch

        reset_shared_state(provider, url)
        seconds, summary = run_in_process()
        stats = requests.get(f"{url}/stats", timeout=30).json()
        results["runs"]["skywatch_process"] = figures(
            stats, seconds=seconds, batch=batch, cities=CITIES
        ) | {
            "stored": summary.stored,
            "deferred": summary.deferred,
            "waited": summary.waited,
            "jitter": jitter(stats, budget_taken_at(provider)),
        }

        logs = [log_dir / f"worker{n}.log" for n in (1, 2)]
        workers = start_workers(url, logs)
        reset_shared_state(provider, url)
        seconds = run_celery(url, logs)
        stats = requests.get(f"{url}/stats", timeout=30).json()
        fresh = City.objects.filter(pk__in=built.cities, stale=False).count()
        results["runs"]["skywatch_celery"] = figures(
            stats, seconds=seconds, batch=batch, cities=CITIES
        ) | {"stored": fresh, "jitter": jitter(stats, budget_taken_at(provider))}
        for process in workers:
            process_stop(process)
        workers = []

        cities = list(City.objects.filter(pk__in=built.cities).order_by("pk"))
        locations = [Location(c.pk, c.latitude, c.longitude) for c in cities]
        batches = [locations[i : i + batch] for i in range(0, len(locations), batch)]
        reset_shared_state(provider, url)
        seconds = run_naive(provider, batches)
        stats = requests.get(f"{url}/stats", timeout=30).json()
        results["runs"]["naive"] = figures(stats, seconds=seconds, batch=batch, cities=CITIES)

        forecast_batch = batch_size_for(provider, kind=FORECAST)
        results["forecast_batch"] = forecast_batch
        reset_shared_state(provider, url)
        seconds, summary = run_forecasts()
        stats = requests.get(f"{url}/stats", timeout=30).json()
        results["runs"]["skywatch_forecasts"] = figures(
            stats, seconds=seconds, batch=forecast_batch, cities=CITIES
        ) | {
            "stored": summary.forecasts_stored,
            "deferred": summary.forecasts_deferred,
            "waited": summary.waited,
            "jitter": jitter(stats, budget_taken_at(provider)),
            "minimum_weight": minimum_weight(provider, CITIES, batch=forecast_batch, kind=FORECAST),
        }
    finally:
        for process in workers:
            process_stop(process)
        process_stop(fake)
        restore_provider()
        world.clear()
    return results


def table(results: dict) -> tuple[list[str], list[list]]:
    """Columns and rows: each run, with its ratios to the minimum and to the naive baseline."""
    naive = results["runs"]["naive"]
    labels = {
        "skywatch_process": "Skywatch, 1 process",
        "skywatch_celery": "Skywatch, Celery, 2 workers",
        "naive": "naive client (baseline)",
        "skywatch_forecasts": "Skywatch, forecasts, 1 process",
    }
    columns = [
        "run",
        "calls",
        "min calls",
        "429s",
        "windows exceeded",
        "budget used",
        "cycle s",
        "min s",
        "cycle / min",
        "429s vs naive",
        "weight / min",
        "take→provider ms p50/p99/max",
        "spread ms",
    ]
    rows = []
    for key, label in labels.items():
        run = results["runs"].get(key)
        if run is None:
            continue
        rows.append(
            [
                label,
                run["calls"],
                run["minimum_calls"],
                run["refused_429"],
                run["windows_exceeded"],
                f"{run['budget_used']:.0%}",
                run["seconds"],
                run["minimum_seconds"],
                run["seconds"] / run["minimum_seconds"] if run["minimum_seconds"] else "-",
                f"{run['refused_429']}/{naive['refused_429']}",
                f"{run['locations_served']:.0f}/{run['minimum_weight']:.0f}"
                if "minimum_weight" in run
                else "-",
                *jitter_cells(run.get("jitter")),
            ]
        )
    return columns, rows


def jitter_cells(measured: dict | None) -> list[str]:
    """The jitter columns of a run: "-" for the naive client, which takes no budget."""
    if not measured:
        return ["-", "-"]
    return [
        f"{measured['p50_ms']:.1f}/{measured['p99_ms']:.1f}/{measured['max_ms']:.1f}",
        f"{measured['spread_ms']:.1f}",
    ]
