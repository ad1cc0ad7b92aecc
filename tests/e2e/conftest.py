"""A real server (uvicorn, embedded mode, its own SQLite file) and Debian's Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.servers import ROOT, Server, make_server

# Debian's Chromium; SKYWATCH_CHROMIUM names another binary.
CHROMIUM = os.environ.get("SKYWATCH_CHROMIUM", "/usr/bin/chromium")
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
                    # Fails in tests/conftest.py's pytest_runtest_setup: the run cannot pass.
                    item.user_properties.append(("missing_services", reason))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


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
