"""`make image-check`: build the image with buildah and run every role of it for real.

No Docker engine and no registry of images here: the base (python:3.11-slim) is replaced by a
stand-in built from Debian packages with mmdebstrap and kept in buildah's storage between runs;
the project's image is built on it with `buildah bud --layers` (cached layers are reused). Then,
inside the image, against the local PostgreSQL and Redis (a database and a Redis db of its own):
the roles run with the commands docker-compose.yml gives them, as the non-root user, with the
root filesystem read-only but /tmp, as the Helm chart runs them. Every step says what it proves;
the first that fails stops the check with its reason. See docs/OPERATIONS.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql
from websockets.sync.client import connect as websocket_connect

from tests.deploy import compose_check

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE_CHECK_IMAGE", "localhost/skywatch:image-check")
CACHE_DIR = Path(os.environ.get("IMAGE_CHECK_CACHE", "/var/cache/skywatch-image"))
DATABASE_NAME = "skywatch_image"
REDIS_URL = os.environ.get("IMAGE_CHECK_REDIS_URL", "redis://127.0.0.1:6379/15")
APP_USER = "10001"
ROLES = ("migrate", "web", "worker", "beat")

# The stand-in for python:3.11-slim. The official image builds CPython itself on Debian; the
# only Debian release that packages Python 3.11 is bookworm, so the stand-in is bookworm's
# python3.11 with `python`, `python3` and `pip` on the PATH as the official image has them.
DEBIAN_SUITE = "bookworm"
DEBIAN_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
BASE_PACKAGES = (
    "python3.11",
    "python3.11-venv",
    "python3-pip",
    "ca-certificates",
    "netbase",
    "tzdata",
)
BASE_HOOK = (
    'ln -sf /usr/bin/python3.11 "$1/usr/local/bin/python"'
    ' && ln -sf /usr/bin/python3.11 "$1/usr/local/bin/python3"'
    ' && printf \'#!/bin/sh\\nexec /usr/local/bin/python -m pip "$@"\\n\' > "$1/usr/local/bin/pip"'
    ' && chmod 755 "$1/usr/local/bin/pip"'
    ' && rm -f "$1/usr/lib/python3.11/EXTERNALLY-MANAGED"'
)
# Like the slim image: no documentation, manual pages or translations.
BASE_DPKG_OPTIONS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
)
BASE_CONFIG = (
    "--env",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "--env",
    "LANG=C.UTF-8",
    "--cmd",
    "python3",
)

# What no layer of the image may hold (paths inside a layer, without the leading slash).
FORBIDDEN_IN_LAYERS = [
    (re.compile(r"(^|/)\.env(\.[^/]*)?$"), "a .env file"),
    (re.compile(r"(^|/)\.secret_key$"), "the dev secret key"),
    (re.compile(r"\.sqlite3(-wal|-shm|-journal)?$"), "a SQLite database"),
    (re.compile(r"^app/\.venv(/|$)"), "the local virtualenv"),
    (re.compile(r"^app/\.git(/|$)"), "the git repository"),
    (re.compile(r"^app/tests(/|$)"), "the tests (and their recordings)"),
    (re.compile(r"(^|/)recordings/"), "recorded provider answers"),
    (re.compile(r"^app/bench(/|$)"), "bench/"),
    (re.compile(r"^app/(htmlcov|test-artifacts|\.pytest_cache|\.ruff_cache)(/|$)"), "test output"),
    (re.compile(r"^app/\.coverage"), "coverage data"),
    (re.compile(r"^run/secrets/"), "a build secret"),
]
ALLOWED_IN_LAYERS = [re.compile(r"^app/\.env\.example$")]
SECRET_ENV = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|_DSN|API_KEY")


class CheckFailed(Exception):
    """A step of the check did not hold; the message says which and why."""


STEPS = {"started": 0}


def say(message: str) -> None:
    if message.startswith("==> "):
        STEPS["started"] += 1
    print(message, flush=True)


def run(
    args: list[str], *, timeout: float = 600, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise CheckFailed(f"`{' '.join(args[:4])} ...` exited {result.returncode}:\n{output}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, alive: Callable[[], None]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        if condition():
            return
        time.sleep(0.5)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


# --- Tools and services -------------------------------------------------------------------


def preflight(database_url: str) -> None:
    missing = [tool for tool in ("buildah", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        raise CheckFailed(
            f"{' and '.join(missing)} not found: `apt-get install buildah mmdebstrap` "
            "(.ci/run installs them)"
        )
    if os.geteuid() != 0:
        raise CheckFailed("buildah --isolation chroot and mmdebstrap need root here")
    try:
        psycopg.connect(maintenance_url(database_url), connect_timeout=5).close()
    except psycopg.Error as exc:
        raise CheckFailed(f"PostgreSQL does not answer at {database_url}: {exc}") from None
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as exc:
        raise CheckFailed(f"Redis does not answer at {REDIS_URL}: {exc}") from None


def server_url() -> str:
    """DATABASE_URL's server (the local PostgreSQL), with this check's own database."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x")
    return urlunsplit(parts._replace(path=f"/{DATABASE_NAME}", query=""))


def maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        name = sql.Identifier(DATABASE_NAME)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if not drop_only:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    if not drop_only:
        redis.Redis.from_url(REDIS_URL).flushdb()


# --- Building -----------------------------------------------------------------------------


def base_tag() -> str:
    """The stand-in's tag names its recipe: a changed recipe builds a new one."""
    recipe = json.dumps(
        [DEBIAN_SUITE, DEBIAN_SOURCES, BASE_PACKAGES, BASE_HOOK, BASE_DPKG_OPTIONS, BASE_CONFIG]
    )
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    return f"localhost/skywatch-python-standin:3.11-{DEBIAN_SUITE}-{digest}"


def image_exists(name: str) -> bool:
    return run(["buildah", "inspect", "--type", "image", name], check=False).returncode == 0


def build_base() -> tuple[str, float | None]:
    """The stand-in base, built once and then found in buildah's storage; (tag, seconds built)."""
    tag = base_tag()
    if image_exists(tag):
        return tag, None
    started = time.monotonic()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    rootfs = CACHE_DIR / "python-standin.tar"
    args = ["mmdebstrap", "--variant=minbase", "--mode=root", "--format=tar"]
    args += [f"--include={','.join(BASE_PACKAGES)}"]
    args += [f"--dpkgopt={option}" for option in BASE_DPKG_OPTIONS]
    args += [f"--customize-hook={BASE_HOOK}", DEBIAN_SUITE, str(rootfs), *DEBIAN_SOURCES]
    try:
        run(args, timeout=1200)
        container = run(["buildah", "from", "scratch"]).stdout.strip()
        try:
            run(["buildah", "add", container, str(rootfs), "/"])
            run(["buildah", "config", *BASE_CONFIG, container])
            run(["buildah", "commit", "-q", container, tag])
        finally:
            run(["buildah", "rm", container], check=False)
    finally:
        rootfs.unlink(missing_ok=True)
    return tag, time.monotonic() - started


def ca_bundle() -> str | None:
    """The CA bundle pip trusts on this machine (a TLS-inspecting proxy's CA is in it)."""
    for candidate in (os.environ.get("PIP_CERT"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def build_image(base: str) -> float:
    started = time.monotonic()
    args = ["buildah", "bud", "--isolation", "chroot", "--layers", "--pull=never"]
    args += ["--build-arg", f"PYTHON_IMAGE={base}", "-t", IMAGE]
    bundle = ca_bundle()
    if bundle:
        args += ["--secret", f"id=pip-ca,src={bundle}"]
    log = CACHE_DIR / "last-build.log"
    with log.open("w") as output:
        result = subprocess.run(
            [*args, str(ROOT)], stdout=output, stderr=subprocess.STDOUT, timeout=1800, check=False
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise CheckFailed(f"buildah bud exited {result.returncode} (full log: {log}):\n{tail}")
    return time.monotonic() - started


def image_config() -> dict:
    data = json.loads(run(["buildah", "inspect", "--type", "image", IMAGE]).stdout)
    return data["OCIv1"]["config"]


def image_size() -> str:
    """The image's size as `buildah images` shows it (its layers, uncompressed)."""
    data = json.loads(run(["buildah", "images", "--json", IMAGE]).stdout)
    return str(data[0]["size"])


def check_layers() -> tuple[int, int]:
    """No layer holds a secret or local state: every file of every layer is looked at, since a
    file deleted by a later layer still ships in the earlier one."""
    with tempfile.TemporaryDirectory(prefix="skywatch-layers-", dir="/var/tmp") as tmp:
        run(["buildah", "push", "--disable-compression", "-q", IMAGE, f"oci:{tmp}/image"])
        layout = Path(tmp) / "image"
        index = json.loads((layout / "index.json").read_text())
        manifest = blob(layout, index["manifests"][0]["digest"])
        layers = json.loads(manifest.read_text())["layers"]
        found: list[str] = []
        size = 0
        for layer in layers:
            size += int(layer["size"])
            with tarfile.open(blob(layout, layer["digest"]), mode="r:*") as archive:
                for member in archive:
                    name = member.name.removeprefix("./").lstrip("/")
                    if any(allowed.search(name) for allowed in ALLOWED_IN_LAYERS):
                        continue
                    found += [
                        f"{name} ({why}, layer {layer['digest'][7:19]})"
                        for pattern, why in FORBIDDEN_IN_LAYERS
                        if pattern.search(name)
                    ]
        if found:
            raise CheckFailed(
                "the image's layers hold what must stay out:\n  " + "\n  ".join(found[:30])
            )
        return len(layers), size


def blob(layout: Path, digest: str) -> Path:
    algorithm, value = digest.split(":", 1)
    return layout / "blobs" / algorithm / value


def check_config(config: dict) -> None:
    user = config.get("User", "")
    if user.split(":")[0] != APP_USER:
        raise CheckFailed(f"the image runs as {user!r}, not as the user {APP_USER}")
    leaked = [
        item.split("=", 1)[0]
        for item in config.get("Env", [])
        if SECRET_ENV.search(item.split("=", 1)[0])
    ]
    if leaked:
        raise CheckFailed(f"the image's environment sets {', '.join(leaked)}")


# --- Running roles ------------------------------------------------------------------------


def processes() -> dict[int, tuple[int, int, str]]:
    """Every process: pid -> (parent pid, real uid, command line)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        table[int(entry.name)] = (
            int(fields["PPid"].split()[0]),
            int(fields["Uid"].split()[0]),
            command.strip(),
        )
    return table


def descendants(pid: int) -> dict[int, tuple[int, int, str]]:
    table = processes()
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, info in table.items():
            if info[0] == parent and child not in found:
                found[child] = info
                frontier.append(child)
    return found


class Container:
    """A working container of the image whose root is bound read-only, /tmp a tmpfs."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.env = env
        self.name = run(["buildah", "from", "--pull=never", "--name", name, IMAGE]).stdout.strip()
        root = Path(run(["buildah", "mount", self.name]).stdout.strip())
        self.binds = []
        for entry in sorted(root.iterdir()):
            if (
                entry.name in ("tmp", "proc", "sys", "dev", "run")
                or entry.is_symlink()
                or not entry.is_dir()
            ):
                continue
            self.binds += ["-v", f"{entry}:/{entry.name}:ro"]

    def command(self, args: list[str], **env: str) -> list[str]:
        command = ["buildah", "run", "--isolation", "chroot", *self.binds]
        command += ["--mount", "type=tmpfs,destination=/tmp"]
        for key, value in {**self.env, **env}.items():
            command += ["-e", f"{key}={value}"]
        return [*command, self.name, "--", *args]

    def run(
        self, args: list[str], *, timeout: float = 300, **env: str
    ) -> subprocess.CompletedProcess:
        return run(self.command(args, **env), timeout=timeout, check=False)

    def remove(self) -> None:
        run(["buildah", "umount", self.name], check=False)
        run(["buildah", "rm", self.name], check=False)


class Role:
    """One role running in its container, its output in a log file."""

    def __init__(
        self, container: Container, role: str, args: list[str], log_dir: Path, **env: str
    ) -> None:
        self.role = role
        self.log = log_dir / f"{role}.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                container.command(args, **env), stdout=output, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        if self.process.poll() is not None:
            tail = "\n".join(self.output().splitlines()[-40:])
            raise CheckFailed(f"the {self.role} role exited {self.process.returncode}:\n{tail}")

    def app_processes(self) -> dict[int, tuple[int, int, str]]:
        """The processes of the image (buildah's own chroot helper runs as root on the host)."""
        return {
            pid: info
            for pid, info in descendants(self.process.pid).items()
            if "buildah" not in info[2] and info[2]
        }

    def check_user(self) -> int:
        found = self.app_processes()
        if not found:
            raise CheckFailed(f"no process of the {self.role} role found")
        wrong = [
            f"{pid} uid {uid}: {cmd}"
            for pid, (_, uid, cmd) in found.items()
            if str(uid) != APP_USER
        ]
        if wrong:
            raise CheckFailed(
                f"{self.role} runs processes as another user:\n  " + "\n  ".join(wrong)
            )
        return len(found)

    def stop(self, timeout: float = 30) -> tuple[int | None, list[str]]:
        """SIGTERM to the role's process (buildah would SIGKILL it); (exit status or None when
        it had to be killed, the processes of the role still alive 10 s after it exited)."""
        found = self.app_processes()
        if self.process.poll() is None:
            top = [pid for pid, (parent, _, _) in found.items() if parent not in found]
            for pid in top:
                with_suppressed(os.kill, pid, signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in found:
                with_suppressed(os.kill, pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()
            code = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            table = processes()
            left = [
                f"{pid}: {cmd}"
                for pid, (_, _, cmd) in found.items()
                if pid in table and table[pid][2] == cmd
            ]
            if not left:
                break
            time.sleep(0.5)
        for entry in left:
            with_suppressed(os.kill, int(entry.split(":")[0]), signal.SIGKILL)
        return code, left


def with_suppressed(function, *args) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        function(*args)


def scrape(port: int) -> dict[str, list]:
    """Metric samples by name, from an exporter on this machine."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def total(samples: dict[str, list], name: str, **labels: str) -> float:
    return sum(
        sample.value
        for sample in samples.get(name, [])
        if all(sample.labels.get(key) == value for key, value in labels.items())
    )


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- The check ----------------------------------------------------------------------------


def role_commands(entrypoint: list[str]) -> dict[str, list[str]]:
    """What docker-compose.yml runs for each role, behind the image's entrypoint."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {}
    for role in ROLES:
        command = services[role].get("command")
        require(
            isinstance(command, list) and command[:1] == [role],
            f"docker-compose.yml's {role} service runs {command!r}, not the image's {role} role",
        )
        commands[role] = [*entrypoint, *command]
    return commands


def exercise_roles(database_url: str, log_dir: Path) -> dict[str, object]:
    config = image_config()
    entrypoint = config.get("Entrypoint") or []
    require(entrypoint == ["/app/docker/entrypoint"], f"unexpected entrypoint {entrypoint!r}")
    commands = role_commands(entrypoint)
    web_port, ports = free_port(), {role: free_port() for role in ("web", "worker", "beat")}
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{web_port}",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "WEATHER_PROVIDER": "random",
        "WEATHER_REFRESH_SECONDS": "5",
        "CELERY_WORKER_CONCURRENCY": "1",
    }
    facts: dict[str, object] = {}
    containers = {role: Container(env, f"skywatch-image-check-{role}") for role in ROLES}
    running: list[Role] = []
    sockets = contextlib.ExitStack()
    try:
        say("==> the root filesystem is read-only but /tmp, the user is not root")
        probe = containers["migrate"].run(
            [
                "sh",
                "-c",
                "id -u; touch /tmp/w && echo tmp-writable; for d in /app /opt/venv /etc /var/tmp /; do touch $d/w 2>/dev/null && echo writable:$d; done; true",
            ]
        )
        lines = probe.stdout.split()
        require(
            lines[:2] == [APP_USER, "tmp-writable"],
            f"unexpected user or /tmp:\n{probe.stdout}{probe.stderr}",
        )
        require(
            not [line for line in lines if line.startswith("writable:")],
            f"writable outside /tmp: {lines}",
        )

        say("==> migrate: migrations and plans")
        migrate = containers["migrate"].run(commands["migrate"], timeout=300)
        require(
            migrate.returncode == 0 and "Applying accounts.0001_initial... OK" in migrate.stdout,
            f"the migrate role failed ({migrate.returncode}):\n{(migrate.stdout + migrate.stderr)[-3000:]}",
        )
        require(
            "basic" in migrate.stdout and "premium" in migrate.stdout, "the plans were not created"
        )

        say("==> web: probes, a page, static files, the API, a websocket")
        web = Role(
            containers["web"],
            "web",
            commands["web"],
            log_dir,
            PORT=str(web_port),
            METRICS_PORT=str(ports["web"]),
        )
        running.append(web)
        base = f"http://127.0.0.1:{web_port}"

        def answers(url: str) -> Callable[[], bool]:
            def check() -> bool:
                try:
                    return requests.get(url, timeout=2).status_code == 200
                except requests.RequestException:
                    return False

            return check

        wait_until(answers(f"{base}/healthz"), timeout=90, what="/healthz", alive=web.alive)
        ready = requests.get(f"{base}/readyz", timeout=20)
        body = ready.json()
        require(ready.status_code == 200, f"/readyz answered {ready.status_code}: {ready.text}")
        require(
            set(body["checks"]) == {"database", "channel_layer", "broker"}
            and all(check["ok"] for check in body["checks"].values()),
            f"/readyz checks: {body['checks']}",
        )
        page = requests.get(f"{base}/", headers={"Host": "localhost"}, timeout=20)
        require(page.status_code == 200 and "<html" in page.text, f"/ answered {page.status_code}")
        styles = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
        require(bool(styles), "the landing page links no stylesheet")
        for url in styles:
            require(
                re.search(r"\.[0-9a-f]{12}\.css$", url) is not None,
                f"{url} is not a collected, hashed file",
            )
            static = requests.get(f"{base}{url}", timeout=20, headers={"Accept-Encoding": "gzip"})
            require(
                static.status_code == 200 and "css" in static.headers.get("Content-Type", ""),
                f"{url}: {static.status_code}",
            )
        facts["static"] = len(styles)
        require(
            requests.get(f"{base}/metrics", timeout=10).status_code == 404,
            "/metrics is public on the web port",
        )

        email, password = (
            f"image-check-{secrets.token_hex(4)}@example.com",
            secrets.token_urlsafe(16),
        )
        registered = requests.post(
            f"{base}/api/auth/register", json={"email": email, "password": password}, timeout=30
        )
        require(
            registered.status_code == 201, f"register: {registered.status_code} {registered.text}"
        )
        access = registered.json()["access"]
        auth = {"Authorization": f"Bearer {access}"}
        found = requests.get(
            f"{base}/api/cities/search", params={"q": "Paris"}, headers=auth, timeout=60
        )
        require(
            found.status_code == 200 and found.json(),
            f"city search: {found.status_code} {found.text[:300]}",
        )
        followed = requests.post(
            f"{base}/api/subscriptions",
            json={"key": found.json()[0]["key"]},
            headers=auth,
            timeout=30,
        )
        require(followed.status_code == 201, f"follow: {followed.status_code} {followed.text}")
        subscription = followed.json()

        socket_ = sockets.enter_context(
            websocket_connect(f"ws://127.0.0.1:{web_port}/ws/weather/", open_timeout=20)
        )
        try:
            socket_.send(json.dumps({"type": "auth", "token": access}))
            snapshot = json.loads(socket_.recv(timeout=20))
            require(
                snapshot.get("type") == "snapshot"
                and [s["id"] for s in snapshot["subscriptions"]] == [subscription["id"]],
                f"websocket: expected the snapshot, got {snapshot}",
            )

            say("==> worker and beat: the followed city is refreshed, stored and pushed")
            with psycopg.connect(database_url) as connection:
                before = connection.execute(
                    "SELECT count(*) FROM subscriptions_observation"
                ).fetchone()[0]
            worker = Role(
                containers["worker"],
                "worker",
                commands["worker"],
                log_dir,
                METRICS_PORT=str(ports["worker"]),
            )
            running.append(worker)
            beat = Role(
                containers["beat"],
                "beat",
                commands["beat"],
                log_dir,
                METRICS_PORT=str(ports["beat"]),
            )
            running.append(beat)

            def alive() -> None:
                for role in running:
                    role.alive()

            pushed: list[dict] = []

            def weather_pushed() -> bool:
                try:
                    message = json.loads(socket_.recv(timeout=1))
                except TimeoutError:
                    return False
                if message.get("type") == "weather":
                    pushed.append(message)
                return bool(pushed)

            wait_until(
                weather_pushed, timeout=120, what="a weather event on the websocket", alive=alive
            )
            with psycopg.connect(database_url) as connection:
                after = connection.execute(
                    "SELECT count(*) FROM subscriptions_observation"
                ).fetchone()[0]
            require(
                after > before, f"no reading stored by the worker ({before} before, {after} after)"
            )
            facts["readings"] = after - before
            require(
                "Sending due task refresh followed cities" in beat.output(),
                "beat sent no refresh task",
            )

            say("==> the compose healthchecks of web and worker pass in the image")
            services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
            web_check = [
                part.replace("127.0.0.1:8000", f"127.0.0.1:{web_port}")
                for part in services["web"]["healthcheck"]["test"][1:]
            ]
            result = containers["web"].run(web_check, timeout=60)
            require(result.returncode == 0, f"the web healthcheck failed: {result.stderr[-2000:]}")
            worker_check = services["worker"]["healthcheck"]["test"][1].replace("$$", "$")
            # The container's hostname, as Docker sets $HOSTNAME (the worker is named worker@%h).
            node = re.search(r"worker@(\S+) v\d", worker.output())
            require(node is not None, "the worker did not print its name")
            result = containers["worker"].run(
                ["sh", "-c", worker_check], timeout=90, HOSTNAME=node.group(1)
            )
            require(
                result.returncode == 0 and "pong" in result.stdout,
                f"the worker healthcheck failed: {(result.stdout + result.stderr)[-2000:]}",
            )

            say("==> every process runs as the non-root user")
            facts["processes"] = sum(role.check_user() for role in running)

            say("==> metrics: each role's exporter answers on its own port")
            web_metrics = scrape(ports["web"])
            require(
                total(web_metrics, "skywatch_http_requests_total", view="healthz") == 0,
                "probes should not be counted",
            )
            require(
                total(web_metrics, "skywatch_http_requests_total", method="POST", status="201")
                >= 2,
                "web requests are not counted",
            )
            require(
                total(web_metrics, "skywatch_websockets_open") == 1,
                f"open websockets: {web_metrics.get('skywatch_websockets_open')}",
            )
            require(
                total(web_metrics, "skywatch_state_up") == 1, "the refresh state could not be read"
            )
            require("skywatch_refresh_lag_seconds" in web_metrics, "no refresh lag")
            require(
                total(web_metrics, "skywatch_provider_budget_limit", provider="random") > 0,
                "no provider budget",
            )
            require(
                total(web_metrics, "skywatch_provider_circuit_open", provider="random") == 0,
                "the circuit is open",
            )
            worker_metrics = scrape(ports["worker"])
            require(
                total(worker_metrics, "skywatch_refresh_cycles_total", outcome="queued") >= 1,
                "no refresh cycle counted",
            )
            require(
                total(worker_metrics, "skywatch_readings_stored_total") >= 1,
                "no stored reading counted",
            )
            require(
                total(
                    worker_metrics,
                    "skywatch_celery_tasks_total",
                    task="subscriptions.tasks.city_batch_refresh_task",
                    state="success",
                )
                >= 1,
                "no refresh batch counted",
            )
            beat_metrics = scrape(ports["beat"])
            require(
                total(
                    beat_metrics,
                    "skywatch_celery_tasks_published_total",
                    task="subscriptions.tasks.refresh_followed_cities_task",
                )
                >= 1,
                "beat's ticks are not counted",
            )
            facts["metrics"] = sum(
                len(samples) for samples in (web_metrics, worker_metrics, beat_metrics)
            )
        finally:
            socket_.close()

        say("==> every role stops on SIGTERM, its exporter with it")
        for role in reversed(running):
            code, left = role.stop()
            require(code is not None, f"the {role.role} role did not stop within 30 s")
            require(not left, f"{role.role} left processes behind: {left}")
        say("==> no role logged an error or a traceback")
        for role in running:
            errors = [
                line
                for line in role.output().splitlines()
                if re.search(r'"level": "(ERROR|CRITICAL)"|^Traceback ', line)
            ]
            require(not errors, f"the {role.role} role logged errors:\n" + "\n".join(errors[:10]))
        for role in ("web", "worker", "beat"):
            try:
                requests.get(f"http://127.0.0.1:{ports[role]}/metrics", timeout=2)
            except requests.ConnectionError:
                continue
            raise CheckFailed(f"the {role} exporter still answers after its role stopped")
        return facts
    except CheckFailed:
        for role in running:
            say(f"--- last lines of {role.role} ({role.log}):")
            say("\n".join(role.output().splitlines()[-15:]))
        raise
    finally:
        sockets.close()
        for role in running:
            role.stop(timeout=10)
        for container in containers.values():
            container.remove()


def remove_leftover_containers() -> None:
    """Working containers of an interrupted run."""
    listing = run(["buildah", "containers", "--format", "{{.ContainerName}}"], check=False).stdout
    for name in listing.split():
        if name.startswith("skywatch-image-check-"):
            run(["buildah", "umount", name], check=False)
            run(["buildah", "rm", name], check=False)


def main() -> int:
    started = time.monotonic()
    database_url = server_url()
    log_dir = Path(tempfile.mkdtemp(prefix="skywatch-image-check-"))
    try:
        say("==> tools, PostgreSQL and Redis")
        preflight(database_url)
        say("==> docker-compose.yml against the Compose specification")
        problems = compose_check.problems()
        require(not problems, "docker-compose.yml is not valid:\n  " + "\n  ".join(problems))
        remove_leftover_containers()
        say(f"==> the stand-in base ({base_tag()})")
        base, base_seconds = build_base()
        say(f"    built in {base_seconds:.0f} s" if base_seconds is not None else "    cached")
        say(f"==> buildah bud {IMAGE}")
        build_seconds = build_image(base)
        say(f"    built in {build_seconds:.0f} s, {image_size()}")
        say("==> no secret or local state in any layer, nor in the image's environment")
        check_config(image_config())
        layers, size = check_layers()
        recreate_database(database_url)
        try:
            facts = exercise_roles(database_url, log_dir)
        finally:
            recreate_database(database_url, drop_only=True)
            redis.Redis.from_url(REDIS_URL).flushdb()
    except CheckFailed as failure:
        say(f"\nimage-check FAILED: {failure}\n(role logs: {log_dir})")
        say(f"image-check: {STEPS['started'] - 1} passed, 1 failed")
        return 1
    if os.environ.get("IMAGE_CHECK_KEEP_LOGS"):
        say(f"role logs kept in {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    say(
        f"\nimage-check passed: image {image_size()} ({size / 1e6:.0f} MB compressed, {layers} layers); "
        + (f"base built in {base_seconds:.0f} s, " if base_seconds is not None else "base cached, ")
        + f"image built in {build_seconds:.0f} s; {facts['readings']} readings stored by the worker, "
        + f"{facts['processes']} processes as user {APP_USER}, {facts['metrics']} metric samples; "
        + f"whole check {time.monotonic() - started:.0f} s"
    )
    say(f"image-check: {STEPS['started']} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
