"""Servers as subprocesses on loopback: a free port, waiting for it, stopping cleanly, and
`make run`'s server (uvicorn, embedded mode, its own SQLite file) for the browser tests.

No Django here: the benchmarks import it before they set Django up.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Until something accepts connections on `port`; fails early when `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def uvicorn_start(
    app: str, *, port: int, env: dict, log: Path, options: tuple[str, ...] = ()
) -> subprocess.Popen:
    """`python -m uvicorn app` on 127.0.0.1:`port`, output appended to `log`; not yet waited for."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def process_stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Server:
    """`make run`'s server as a subprocess: start, stop and start again on the same port."""

    workdir: Path
    env: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def start(self) -> None:
        self.process = uvicorn_start(
            "skywatch.asgi:application",
            port=self.port,
            env=self.env,
            log=self.workdir / "server.log",
            options=("--lifespan", "on"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.workdir / "server.log").read_text()[-3000:])
            try:
                if requests.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("The server did not start within 60 s")

    def stop(self) -> None:
        process_stop(self.process)
        self.process = None


def make_server(workdir: Path, **extra_env: str) -> Server:
    """A migrated, empty Skywatch in `workdir`, not yet started."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith(("PYTEST_", "COV_"))
    }
    env.update(
        {
            "DJANGO_ENV": "dev",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "e2e-secret-key-for-tests-only-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "WEATHER_PROVIDER": "random",
            "WEATHER_REFRESH_SECONDS": "2",
            # Every browser test signs its account up from 127.0.0.1 against this one server.
            "ACCOUNT_SIGNUP_RATE": "300/m/ip",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
            **extra_env,
        }
    )
    server = Server(workdir=workdir, env=env)
    server.manage("migrate", "--noinput")
    return server
