"""A real server (uvicorn, embedded mode, its own SQLite file) and Debian's Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.servers import free_port, process_stop, uvicorn_start

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists():
                reason = f"{CHROMIUM} is missing (apt-get install chromium)"
                if os.environ.get("REQUIRE_SERVICES") == "1":
                    item.add_marker(pytest.mark.xfail(reason=reason, strict=True, run=False))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


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
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
            **extra_env,
        }
    )
    server = Server(workdir=workdir, env=env)
    server.manage("migrate", "--noinput")
    return server


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    instance = make_server(tmp_path_factory.mktemp("e2e-server"))
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="package")
def browser():
    # Package scope: Playwright's sync API keeps an event loop in the main thread while it
    # runs, which would break async_to_sync in every test collected after tests/e2e.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_up(page, server: Server, email: str, password: str = "a long pass phrase 7") -> None:
    page.goto(f"{server.url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard/")
    # The dashboard's module script is deferred: typing before it runs would go unheard.
    page.wait_for_selector('#connection[data-state="live"]')
