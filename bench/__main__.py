"""`make bench`: every benchmark in bench/, one table each against a baseline of the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/skywatch_bench \\
    REDIS_URL=redis://127.0.0.1:6379/8 make bench [BENCH="fanout rest"]

It needs PostgreSQL (a database of its own: it is created when missing, and the benchmarks
add and remove their own rows) and Redis (keys of the channel layer, the budget, Celery), and
wrk for the REST figures (`apt-get install wrk`). Servers listen on 127.0.0.1 only, on the
ports of BENCH_PORTS (default 8180-8189). The figures go to bench/results/latest.json with the
machine they came from; docs/BENCHMARKS.md explains them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.clients import raise_open_files
from bench.common import ROOT, print_table, setup_django

RESULTS = ROOT / "bench" / "results" / "latest.json"
ORDER = ("budget", "connections", "fanout", "rest", "channel_layers", "history_page", "alerts")


def machine() -> dict:
    """Where the figures come from: cores, memory, load, Python, services, commit."""
    from django.db import connection

    from weather_provider.limiter import shared_redis

    memory = 0
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) // 1024
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_mib": memory,
        "cpu": cpu_model(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "redis": shared_redis().info("server")["redis_version"],
        "load_average_at_start": os.getloadavg(),
        "open_files_limit": raise_open_files(),
        "commit": commit,
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def ports() -> list[int]:
    low, _, high = os.environ.get("BENCH_PORTS", "8180-8189").partition("-")
    return list(range(int(low), int(high or low) + 1))


def preflight() -> str | None:
    """Why the benchmarks cannot run here, or None."""
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")) or not os.environ.get("REDIS_URL"):
        return (
            "make bench needs PostgreSQL and Redis, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/skywatch_bench "
            "REDIS_URL=redis://127.0.0.1:6379/8 make bench\n"
            "(the database is created when missing; use one of its own)."
        )
    return None


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    import psycopg
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    options = {
        key: settings.DATABASES["default"].get(key.upper())
        for key in ("host", "port", "user", "password")
    }
    options = {key: value for key, value in options.items() if value}
    try:
        psycopg.connect(dbname=name, **options).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        print(f"Created the database {name}.")


def script_benchmark(script: str, extra: list[str], *, log_dir: Path) -> dict:
    """One of the standalone scripts, run as its own process; its figures from --json."""
    out = log_dir / f"{Path(script).stem}.json"
    log = log_dir / f"{Path(script).stem}.log"
    with log.open("w") as output:
        completed = subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), "--json", str(out), *extra],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"{script} failed; its output is in {log}")
    return json.loads(out.read_text())


class ChannelLayers:
    """bench/channel_layer_fanout.py: channels-redis' default core layer is the baseline."""

    TITLE = "Channel layers: one weather event to each of 1,000 users (core = channels default)"
    LAYER_NAMES = {
        "core": "core, capacity 100 (baseline)",
        "core-10k": "core, capacity 10,000",
        "pubsub": "channels-redis pubsub",
        "skywatch": "Skywatch's layer",
    }

    @staticmethod
    def run(*, log_dir: Path, ports: list[int]) -> dict:
        return script_benchmark(
            "channel_layer_fanout.py", ["--users", "1000", "--rounds", "2"], log_dir=log_dir
        )

    @classmethod
    def table(cls, results: dict) -> tuple[list[str], list[list]]:
        users = results["users"]
        columns = [
            "layer",
            "tabs",
            "sent/s",
            "wall µs/user",
            "trips/user",
            "delivered",
            "all in ms",
            "wall vs core",
            "sync publish µs/user",
        ]
        base = results["layers"]["core"]
        rows = []
        for kind, label in cls.LAYER_NAMES.items():
            layer = results["layers"][kind]
            path = results["publish_path"][kind]["batch"]
            for tabs in ("online", "offline"):
                run = layer[tabs]
                rows.append(
                    [
                        label,
                        "open" if tabs == "online" else "none",
                        run["per_second"],
                        run["wall_us"],
                        run["trips"],
                        f"{run['delivered']}/{users}" if tabs == "online" else "-",
                        run["delivery"] * 1000 if tabs == "online" else "-",
                        f"{run['wall_us'] / base[tabs]['wall_us']:.2f}x",
                        path["wall_us"] if tabs == "offline" else "",
                    ]
                )
        return columns, rows


class Alerts:
    """bench/alerts.py: storing the batch is the baseline the evaluation is set against."""

    TITLE = "Alerts: 10,000 cities, 30,000 alerts, one refresh (baseline: storing the batch)"

    @staticmethod
    def run(*, log_dir: Path, ports: list[int]) -> dict:
        cities = os.environ.get("BENCH_ALERT_CITIES", "10000")
        return script_benchmark("alerts.py", ["--cities", cities], log_dir=log_dir)

    @staticmethod
    def table(results: dict) -> tuple[list[str], list[list]]:
        from bench.alerts import table

        return table(results)


class HistoryPage:
    """bench/history_page.py: every raw reading of the year, serialised, is the baseline."""

    TITLE = "City history page over a year of 5-minute readings (baseline: the raw year)"

    @staticmethod
    def run(*, log_dir: Path, ports: list[int]) -> dict:
        return script_benchmark("history_page.py", ["--repeat", "5"], log_dir=log_dir)

    @staticmethod
    def table(results: dict) -> tuple[list[str], list[list]]:
        rows = results["rows"]
        raw = rows[-1]
        columns = [
            "range",
            "bucket",
            "readings",
            "points",
            "data ms",
            "page ms",
            "page KiB",
            "data vs raw",
            "KiB vs raw",
        ]
        table_rows = []
        for row in rows:
            label, bucket, readings, points, data_ms, page_ms, kib = row
            table_rows.append(
                [
                    label,
                    bucket,
                    readings,
                    points,
                    data_ms,
                    page_ms,
                    kib,
                    f"{data_ms / raw[4]:.2f}x",
                    f"{kib / raw[6]:.3f}x",
                ]
            )
        return columns, table_rows


def benchmarks() -> dict:
    from bench import budget, connections, fanout, rest

    return {
        "budget": budget,
        "connections": connections,
        "fanout": fanout,
        "rest": rest,
        "channel_layers": ChannelLayers,
        "history_page": HistoryPage,
        "alerts": Alerts,
    }


def goals(results: dict) -> list[dict]:
    """Each goal of the issue, what was measured and whether it is met."""
    found = []

    def goal(benchmark: str, text: str, measured: str, met: bool) -> None:
        found.append({"benchmark": benchmark, "goal": text, "measured": measured, "met": met})

    budget = results.get("budget", {}).get("figures")
    if budget:
        for key in ("skywatch_process", "skywatch_celery"):
            run = budget["runs"].get(key)
            if run is None:
                continue
            goal("budget", f"{key}: 0 429s", str(run["refused_429"]), run["refused_429"] == 0)
            goal(
                "budget",
                f"{key}: 0 windows exceeded",
                str(run["windows_exceeded"]),
                run["windows_exceeded"] == 0,
            )
            goal(
                "budget",
                f"{key}: calls = ⌈cities ÷ batch⌉",
                f"{run['calls']} / {run['minimum_calls']}",
                run["calls"] == run["minimum_calls"],
            )
            goal(
                "budget",
                f"{key}: budget used ≥ 95 % while there is work",
                f"{run['budget_used']:.0%}",
                run["budget_used"] >= 0.95,
            )
    fanout = results.get("fanout", {}).get("figures")
    if fanout and fanout["levels"]:
        top = max(fanout["levels"], key=int)
        run = fanout["levels"][top]["skywatch"]
        goal(
            "fanout",
            "1 message per user per batch, none missing",
            f"{run['messages_per_user_batch']:.2f}, {run['missing']} missing at {top}",
            run["messages_per_user_batch"] == 1 and run["missing"] == 0,
        )
        goal(
            "fanout",
            "p99 ≤ 500 ms at 10,000 sockets (unpaced burst)",
            f"{run['p99_ms']:.0f} ms at {top}",
            int(top) >= 10_000 and run["p99_ms"] <= 500,
        )
        paced = fanout["levels"][top].get("paced")
        if paced:
            goal(
                "fanout",
                "p99 ≤ 500 ms at 10,000 sockets, refresh paced by the budget",
                f"{paced['p99_ms']:.0f} ms at {top}, {paced['missing']} missing",
                int(top) >= 10_000 and paced["p99_ms"] <= 500 and paced["missing"] == 0,
            )
            goal(
                "fanout",
                "server CPU ≤ 150 µs per frame delivered (paced)",
                f"{paced['server_cpu_us_per_frame']:.0f} µs at {top}",
                paced["server_cpu_us_per_frame"] <= 150,
            )
    connections = results.get("connections", {}).get("figures")
    if connections:
        run = connections["runs"]["skywatch"]
        storm = connections.get("storm")
        if storm:
            every = storm["all_back_seconds"]
            goal(
                "connections",
                "reconnect storm: every dashboard back within 60 s, none lost",
                f"{storm['back']:,}/{storm['sockets']:,} back, all in "
                + (f"{every:.1f} s" if every is not None else "-"),
                every is not None and every <= 60 and storm["lost"] == 0,
            )
        bare = connections["runs"].get("bare_deflate_off")
        if bare and bare["connects_per_second"]:
            share = run["connects_per_second"] / bare["connects_per_second"]
            goal(
                "connections",
                "authenticated connects/s ≥ 50 % of the bare ASGI app's",
                f"{run['connects_per_second']:.0f}/s, {share:.0%}",
                share >= 0.5,
            )
        goal(
            "connections",
            "10,000 idle sockets in one process",
            str(run["sockets"]),
            run["sockets"] >= 10_000,
        )
        goal(
            "connections",
            "≤ 60 KiB per socket",
            f"{run['kib_per_socket']:.1f} KiB",
            run["kib_per_socket"] <= 60,
        )
    rest = results.get("rest", {}).get("figures")
    if rest:
        from bench.rest import API_GOAL, SERVER_GOAL, shares

        ratio = shares(rest)
        if "/bench/bare" in ratio:
            goal(
                "rest",
                f"bare view through Skywatch's server ≥ {SERVER_GOAL:.0%} of gunicorn WSGI",
                f"{ratio['/bench/bare']:.0%}",
                ratio["/bench/bare"] >= SERVER_GOAL,
            )
        for path in ("/api/subscriptions", "/api/history"):
            if path in ratio:
                goal(
                    "rest",
                    f"{path} ≥ {API_GOAL:.0%} of the bare view, same server",
                    f"{ratio[path]:.0%}",
                    ratio[path] >= API_GOAL,
                )
            counts = set(rest["queries"][path].values())
            goal(
                "rest",
                f"{path}: queries flat from 1 to 15 cities",
                "/".join(str(n) for n in rest["queries"][path].values()),
                len(counts) == 1,
            )
    alerts = results.get("alerts", {}).get("figures")
    if alerts:
        first, again = alerts["runs"]["first"], alerts["runs"]["again"]
        goal(
            "alerts",
            "queries per batch flat (not per alert)",
            f"{first['queries_min']}-{first['queries_max']}",
            first["queries_max"] - first["queries_min"] <= 1,
        )
        goal(
            "alerts",
            "one event per firing, none twice",
            f"{first['events']} of {alerts['expected_events']}, duplicates {alerts['duplicates']}",
            first["events"] == alerts["expected_events"] and alerts["duplicates"] == 0,
        )
        goal(
            "alerts",
            "the same batch again sends nothing",
            str(again["emails"]),
            again["emails"] == 0,
        )
    return found


def plain(value):
    """JSON-safe figures: live handles dropped, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k != "live"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(ORDER)} (default all)")
    parser.add_argument("--out", default=str(RESULTS), help="where the JSON goes")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(ORDER)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {ORDER}")
    selected = [name for name in ORDER if not args.names or name in args.names]
    problem = preflight()
    if problem:
        print(problem)
        return 2
    os.environ.setdefault("DJANGO_ENV", "test")
    setup_django()
    ensure_database(os.environ["DATABASE_URL"])
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("ensure_plans", verbosity=0, stdout=io.StringIO())
    info = machine()
    print(
        f"Skywatch benchmarks on {info['cores']} cores, {info['memory_mib']:,} MiB, "
        f"Python {info['python']}, PostgreSQL {info['postgresql']}, Redis {info['redis']}; "
        f"load average {', '.join(f'{v:.1f}' for v in info['load_average_at_start'])}"
    )
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.setdefault("benchmarks", {})
    report["machine"] = info
    log_dir = Path(tempfile.mkdtemp(prefix="skywatch-bench-"))
    print(f"Server and worker logs: {log_dir}")
    registry = benchmarks()
    failed = []
    kept = None
    started = time.monotonic()
    for name in selected:
        module = registry[name]
        began = time.monotonic()
        print(f"\n[{name}] running…", flush=True)
        try:
            if name == "connections" and "fanout" in selected:
                figures = module.run(log_dir=log_dir, ports=ports(), keep=True)
                kept = figures.get("live")
            elif name == "fanout":
                figures = module.run(log_dir=log_dir, ports=ports(), live=kept)
                kept = None
            else:
                figures = module.run(log_dir=log_dir, ports=ports())
            columns, rows = module.table(figures)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            report["benchmarks"][name] = {"error": traceback.format_exc(limit=3)}
            continue
        seconds = time.monotonic() - began
        print_table(f"{module.TITLE} ({seconds:.0f} s)", columns, rows)
        extra = getattr(module, "storm_line", lambda figures: None)(figures)
        if extra:
            print(extra)
        report["benchmarks"][name] = {
            "title": module.TITLE,
            "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": seconds,
            "load_average_after": os.getloadavg(),
            "columns": columns,
            "rows": rows,
            "figures": figures,
        }
    if kept is not None:
        kept.close()
    from bench import world

    world.clear()
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["machine"]["total_seconds"] = time.monotonic() - started
    report["goals"] = goals(report["benchmarks"])
    print("\nGoals")
    for item in report["goals"]:
        mark = "met    " if item["met"] else "NOT MET"
        print(f"  {mark}  {item['benchmark']}: {item['goal']} — {item['measured']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(plain(report), indent=1, ensure_ascii=False) + "\n")
    scratch.replace(out)
    print(f"\nFigures written to {out} ({time.monotonic() - started:.0f} s in all).")
    if failed:
        print(f"Failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
