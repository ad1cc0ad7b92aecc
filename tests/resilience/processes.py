"""Real processes for the resilience tests: each in its own session, stopped even on failure."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
# This suite's loopback ports: fake provider, database proxy, private Redis, web server.
PORT_RANGE = range(8190, 8200)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SETTINGS_MODULE = "tests.resilience.settings"

PORT_LOCKS = Path(tempfile.gettempdir()) / "skywatch-resilience-ports"
PORT_WAIT_SECONDS = 60

# Held for as long as a port is in use, so parallel runs on one machine never pick the same one.
_held: dict[int, int] = {}


def _claim(port: int) -> bool:
    PORT_LOCKS.mkdir(exist_ok=True)
    descriptor = os.open(PORT_LOCKS / f"{port}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return False
    with socket.socket() as sock:
        # As servers do: a port whose old connections linger in TIME_WAIT is free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            os.close(descriptor)
            return False
    _held[port] = descriptor
    return True


def take_port() -> int:
    """A port of this suite's range that nothing listens on and no other test holds."""
    deadline = time.monotonic() + PORT_WAIT_SECONDS
    while True:
        for port in PORT_RANGE:
            if port not in _held and _claim(port):
                return port
        if time.monotonic() > deadline:
            raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")
        time.sleep(0.5)


def release_port(port: int) -> None:
    descriptor = _held.pop(port, None)
    if descriptor is not None:
        os.close(descriptor)  # closing the descriptor releases the lock


def wait_until(
    condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.1
) -> object:
    """Poll `condition` until it returns something true; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def child_env(**overrides: str) -> dict[str, str]:
    """This environment minus pytest's, with both import roots and the venv's Python."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_"))
        and key not in {"DJANGO_SETTINGS_MODULE", "REQUIRE_SERVICES", "SENTRY_DSN"}
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHON": sys.executable,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
            "DJANGO_ENV": "test",
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


class Service:
    """One child process (and whatever it forks) with its output in a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        with self.log.open("ab") as output:
            # Its own session: the whole group (a worker and its pool) can be signalled at once.
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        """Process ids of the direct children (a Celery worker's pool processes)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def wait_for(self, condition: Callable[[], object], *, timeout: float, what: str) -> object:
        def check() -> object:
            if not self.running:
                raise AssertionError(f"{self.name} exited early:\n{self.output()[-4000:]}")
            return condition()

        try:
            return wait_until(check, timeout=timeout, what=f"{self.name}: {what}")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\n--- {self.name} log ---\n{self.output()[-4000:]}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the process and everything in its session, as the kernel's OOM killer would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the session, SIGKILL what is left after `timeout` seconds."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Pool processes outlive a killed parent; the session id still reaches them.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=10)


class RedisServer:
    """A private redis-server on a loopback port, killed and started again at will."""

    def __init__(self, *, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{port}/0"
        self.service: Service | None = None
        self.starts = 0

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def answers(self) -> bool:
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> RedisServer:
        self.starts += 1
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.service = Service(
            "redis-server", command, env=dict(os.environ), log=self.workdir / "redis.log"
        ).start()
        self.service.wait_for(self.answers, timeout=15, what="PING")
        return self

    def kill(self) -> None:
        """SIGKILL: every client connection drops, every key is gone (nothing is saved)."""
        if self.service is not None:
            self.service.kill()
        wait_until(lambda: not self.answers(), timeout=5, what="redis-server to go away")

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop(timeout=5)


class Processes:
    """Starts the project's processes for one test and stops every one of them afterwards."""

    def __init__(self, *, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.services: list[Service] = []
        self.ports: list[int] = []

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}-{len(self.services) + 1}.log"

    def worker(self, *, concurrency: int = 1, **env: str) -> Service:
        """`docker/start-worker` (prefork), ready to take tasks."""
        env = {**self.env, "CELERY_WORKER_CONCURRENCY": str(concurrency), **env}
        env.setdefault("CELERY_WORKER_NAME", f"resilience{len(self.services) + 1}@%h")
        worker = Service(
            "celery worker", [str(DOCKER / "start-worker")], env=env, log=self._log("worker")
        )
        self.services.append(worker.start())
        worker.wait_for(lambda: " ready." in worker.output(), timeout=90, what="ready")
        return worker

    def web(self, **env: str) -> tuple[Service, str]:
        """`docker/start-web` (uvicorn) on a port of this suite's range, answering /healthz."""
        import requests

        port = take_port()
        self.ports.append(port)
        url = f"http://127.0.0.1:{port}"
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(port), **env}
        web = Service("web server", [str(DOCKER / "start-web")], env=env, log=self._log("web"))
        self.services.append(web.start())

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=2).ok
            except requests.RequestException:
                return False

        web.wait_for(healthy, timeout=90, what="/healthz")
        return web, url

    def stop_all(self) -> None:
        for service in reversed(self.services):
            service.stop()
        for port in self.ports:
            release_port(port)
