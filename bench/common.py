"""What every benchmark needs: Django set up, servers started on loopback, tables printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.servers import uvicorn_start, wait_for_port

ROOT = Path(__file__).resolve().parents[1]


def setup_django(database_url: str | None = None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    for path in (str(ROOT), str(ROOT / "platform")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import django

    django.setup()


def server_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
            **extra,
        }
    )
    return env


def start_uvicorn(port: int, env: dict, *, log: Path, workers: int = 1) -> subprocess.Popen:
    process = uvicorn_start(
        "skywatch.asgi:application",
        port=port,
        env=env,
        log=log,
        options=(
            *("--workers", str(workers), "--lifespan", "on", "--log-level", "warning"),
            *("--no-access-log", "--ws-per-message-deflate", "false"),
        ),
    )
    wait_for_port(port, process)
    return process


def print_table(title: str, columns: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in columns]] + [[format_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def format_cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
