"""REST: authenticated reads against a bare Django JSON view in the same server.

One uvicorn process serves bench.urls (Skywatch plus /bench/bare, a view that only looks the
session's user up and answers a small JSON) as `make run` and the image serve Skywatch, and one
gunicorn process with one sync worker serves the same project through WSGI: the baseline for
what the web server itself costs. wrk drives each at a fixed concurrency, each
request signed by the next of 100 users in turn: the bare view with a session cookie, the
API with a personal X-API-Token. Every user follows 15 cities with a stored reading and has
15 searches. The users are on the `bench` plan, whose API rate (a million a second) never
throttles; the throttle's bookkeeping in Redis still runs on every API request, as it does in
production. Query counts come from Django's test client in this process, for users following
1 to 15 cities.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import world
from bench.common import ROOT, server_env, start_uvicorn
from tests.support.servers import free_port, process_stop, wait_for_port

TITLE = "REST: authenticated GETs against a bare Django JSON view in the same server"
USERS, CITIES, PER_USER, SEARCHES = 100, 1500, 15, 15
CONNECTIONS, THREADS, WARM_UP_SECONDS = 8, 1, 2
# Endpoints take turns, ROUNDS times SECONDS each, so that a change in the machine's load
# (it is shared) weighs on every endpoint alike.
ROUNDS, SECONDS = 3, 4
# Goals: the bare view through Skywatch's server against gunicorn's; the API against the bare view.
SERVER_GOAL, API_GOAL = 0.8, 0.5
CITY_COUNTS = (1, 3, 5, 10, 15)
# (server, path, label, credential); the first row is the baseline of the second, which is the
# baseline of the rest.
ENDPOINTS = (
    ("gunicorn", "/bench/bare", "bare view, gunicorn WSGI 1 sync worker (baseline)", "session"),
    ("skywatch", "/bench/bare", "bare view, Skywatch's server", "session"),
    ("skywatch", "/api/subscriptions", "GET /api/subscriptions, X-API-Token", "token"),
    ("skywatch", "/api/history", "GET /api/history, X-API-Token", "token"),
)


def row_key(server: str, path: str) -> str:
    return path if server == "skywatch" else f"{server} {path}"


def start_gunicorn(port: int, env: dict, *, log: Path) -> subprocess.Popen:
    """The same project through gunicorn's sync WSGI worker, one process, as the baseline."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "skywatch.wsgi:application",
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "sync"),
            *("--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process)
    return process


WRK_SCRIPT = """
local values = {}
local header = "X-API-Token"
local n = 0
init = function(args)
  header = args[1]
  for line in io.lines(args[2]) do values[#values + 1] = line end
end
request = function()
  n = n % #values + 1
  return wrk.format("GET", nil, {[header] = values[n]})
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "timeouts": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.timeout))
end
"""


def wrk_missing() -> bool:
    return shutil.which("wrk") is None


def wrk(url: str, *, header: str, values: list[str], seconds: int, scratch: Path) -> dict:
    """One wrk run; its figures as a dict (requests per second, latency percentiles)."""
    script = scratch / "report.lua"
    script.write_text(WRK_SCRIPT)
    values_file = scratch / "values.txt"
    values_file.write_text("\n".join(values) + "\n")
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    command += ["-s", str(script), url, "--", header, str(values_file)]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    figures = json.loads(line[4:])
    figures["per_second"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(
        figures[k] for k in ("status_errors", "connect_errors", "read_errors", "timeouts")
    )
    return figures


def combined(runs: list[dict]) -> dict:
    """Several rounds of one endpoint: requests over the whole time, median percentiles."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["duration_us"] for run in runs) / 1e6
    return {
        "requests": requests,
        "per_second": requests / seconds,
        "p50_us": statistics.median(run["p50_us"] for run in runs),
        "p99_us": statistics.median(run["p99_us"] for run in runs),
        "max_us": max(run["max_us"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "rounds": runs,
    }


def query_counts(built: world.World) -> dict[str, dict[int, int]]:
    """Queries each endpoint makes for users following 1 to 15 cities (with as many searches)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from skywatch.accounts.models import User
    from subscriptions.models import SearchHistory, Subscription

    counts: dict[str, dict[int, int]] = {path: {} for _, path, _, _ in ENDPOINTS}
    users = User.objects.filter(pk__in=built.users[: len(CITY_COUNTS)]).order_by("pk")
    for user, cities in zip(users, CITY_COUNTS, strict=True):
        keep = built.follows[user.pk][:cities]
        Subscription.objects.filter(user=user).exclude(city_id__in=keep).delete()
        extra = SearchHistory.objects.filter(user=user).order_by("-timestamp")[cities:]
        SearchHistory.objects.filter(pk__in=list(extra.values_list("pk", flat=True))).delete()
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies["sessionid"] = built.sessions[user.pk]
        for _, path, _, auth in dict.fromkeys(ENDPOINTS[1:]):
            headers = {"HTTP_X_API_TOKEN": built.tokens[user.pk]} if auth == "token" else {}
            client.get(path, **headers)  # warm caches, as a running server has them
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            counts[path][cities] = len(queries.captured_queries)
    return counts


def run(*, log_dir: Path, ports: list[int]) -> dict:
    built = world.build(
        users=USERS,
        cities=CITIES,
        per_user=PER_USER,
        sessions=True,
        tokens=USERS,
        searches=SEARCHES,
    )
    results: dict = {
        "users": USERS,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": SECONDS,
        "rounds": ROUNDS,
        "runs": {},
    }
    rest_users = built.users[len(CITY_COUNTS) :]
    if wrk_missing():
        results["wrk"] = "wrk is missing: apt-get install wrk (throughput skipped)"
        print(results["wrk"])
    else:
        ports = list(ports) or [free_port(), free_port()]
        servers = {
            "skywatch": start_uvicorn(ports[0], server_env(), log=log_dir / "rest_server.log"),
            "gunicorn": start_gunicorn(ports[1], server_env(), log=log_dir / "rest_gunicorn.log"),
        }
        port_of = {"skywatch": ports[0], "gunicorn": ports[1]}
        try:
            with tempfile.TemporaryDirectory(prefix="skywatch-wrk-") as scratch:
                signed = {}
                for server, path, _, auth in ENDPOINTS:
                    if auth == "session":
                        values = [f"sessionid={built.sessions[u]}" for u in rest_users]
                        signed[path] = ("Cookie", values)
                    else:
                        signed[path] = ("X-API-Token", [built.tokens[u] for u in rest_users])
                    header, values = signed[path]
                    url = f"http://127.0.0.1:{port_of[server]}{path}"
                    wrk(
                        url,
                        header=header,
                        values=values,
                        seconds=WARM_UP_SECONDS,
                        scratch=Path(scratch),
                    )
                rounds: dict[str, list[dict]] = {row_key(sv, p): [] for sv, p, _, _ in ENDPOINTS}
                for _ in range(ROUNDS):
                    for server, path, _, _ in ENDPOINTS:
                        header, values = signed[path]
                        url = f"http://127.0.0.1:{port_of[server]}{path}"
                        figures = wrk(
                            url,
                            header=header,
                            values=values,
                            seconds=SECONDS,
                            scratch=Path(scratch),
                        )
                        rounds[row_key(server, path)].append(figures)
                results["runs"] = {key: combined(runs) for key, runs in rounds.items()}
        finally:
            for process in servers.values():
                process_stop(process)
    results["queries"] = query_counts(built)
    world.clear()
    return results


def shares(results: dict) -> dict[str, float]:
    """Each row's req/s against its baseline: the gunicorn row's for the bare view through
    Skywatch's server, that row's for the API endpoints."""
    runs = results["runs"]
    found = {}
    wsgi, bare = runs.get("gunicorn /bench/bare"), runs.get("/bench/bare")
    if wsgi and bare:
        found["/bench/bare"] = bare["per_second"] / wsgi["per_second"]
    for _, path, _, _ in ENDPOINTS[2:]:
        if bare and path in runs:
            found[path] = runs[path]["per_second"] / bare["per_second"]
    return found


def table(results: dict) -> tuple[list[str], list[list]]:
    counts = "/".join(str(n) for n in CITY_COUNTS)
    columns = [
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "vs baseline",
        f"queries @{counts} cities",
    ]
    rows = []
    ratio = shares(results)
    for server, path, label, _ in ENDPOINTS:
        run = results["runs"].get(row_key(server, path))
        queries = "/".join(str(results["queries"][path].get(n, "-")) for n in CITY_COUNTS)
        if run is None:
            rows.append([label, "-", "-", "-", "-", "-", queries])
            continue
        share = ratio.get(path) if server == "skywatch" else 1.0
        rows.append(
            [
                label,
                run["per_second"],
                run["p50_us"] / 1000,
                run["p99_us"] / 1000,
                run["errors"],
                "-" if share is None else f"{share:.0%}",
                queries,
            ]
        )
    return columns, rows
