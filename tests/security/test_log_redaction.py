"""No secret reaches a log line, whichever logger or handler writes it."""

from __future__ import annotations

import copy
import io
import logging
import logging.config
import os
import subprocess
import sys

import pytest
import requests
import responses

from subscriptions.refresh import refresh_cities
from tests.deploy.test_prod_settings import run_prod
from tests.factories import CityFactory, SubscriptionFactory
from tests.security.conftest import server_log
from tests.support.servers import ROOT
from tests.support.state import refresh_state_reset
from weather_provider.registry import get_provider, reset_providers

KEY = "s3cret0penweather0key0in0logs0001"

LOGGING_SCRIPT = f"""
import logging
key = {KEY!r}
logging.getLogger("subscriptions.refresh").warning("%s", key)
logging.getLogger("anything.at.all").error("calling https://x.example/?appid=%s", key)
try:
    raise RuntimeError("GET /data/2.5/weather?lat=1&appid=" + key)
except RuntimeError:
    logging.getLogger("celery.app.trace").exception("Task %s raised unexpected", "refresh")
logging.getLogger("uvicorn.error").error("extra", extra={{"url": "/x?k=" + key}})
"""


def test_prod_logging_redacts_records_of_any_logger(tmp_path):
    result = run_prod(tmp_path, "shell", "-c", LOGGING_SCRIPT, OPENWEATHER_API_KEY=KEY)

    assert result.returncode == 0, result.stderr
    assert KEY not in result.stderr
    assert result.stderr.count("[redacted]") >= 3
    assert '"logger": "celery.app.trace"' in result.stderr
    assert "Traceback" in result.stderr


CELERY_SCRIPT = f"""
import logging, django
django.setup()
from skywatch.celery import app
app.log.setup_logging_subsystem(loglevel="INFO")
logging.getLogger("celery.app.trace").error("Task failed: appid=%s", {KEY!r})
logging.getLogger("subscriptions.refresh").warning("%s", {KEY!r})
"""


def test_celerys_own_log_handlers_redact_too():
    env = {
        **os.environ,
        "DJANGO_ENV": "dev",
        "DJANGO_SETTINGS_MODULE": "skywatch.settings",
        "DJANGO_SECRET_KEY": "celery-logging-test-key-" + "x" * 40,
        "OPENWEATHER_API_KEY": KEY,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", CELERY_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Task failed" in result.stderr
    assert KEY not in result.stderr + result.stdout


@pytest.fixture
def log_output(settings):
    """The logging set-up of the settings (LOGGING), its console writing to a string."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["stream"] = stream
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(config)
    yield stream
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


@pytest.mark.django_db
def test_a_failing_provider_call_logged_by_the_pipeline_shows_no_key(settings, log_output):
    settings.WEATHER_PROVIDER = "openweather"
    settings.OPENWEATHER_API_KEY = KEY
    settings.PROVIDER_RATE_LIMIT = "1000/minute"
    reset_providers()
    # A breaker left open by an earlier failure would skip the call this test is about.
    refresh_state_reset(get_provider())
    city = CityFactory(name="Paris")
    SubscriptionFactory(city=city)

    def connection_reset(request: requests.PreparedRequest):
        # What a socket error names: the URL the provider built, its key included.
        raise OSError(f"Connection reset by peer while reading {request.url}")

    with responses.RequestsMock() as mock:
        mock.add_callback(
            responses.GET, "https://api.openweathermap.org/data/2.5/weather", connection_reset
        )
        summary = refresh_cities([city], attempts=1, max_wait=1)
    refresh_state_reset(get_provider())

    output = log_output.getvalue()
    assert summary.failures == 1
    assert "failed unexpectedly" in output
    assert "appid=[" in output
    assert KEY not in output


def test_share_tokens_never_reach_the_access_log(live_server_process):
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-secret"

    response = requests.get(f"{live_server_process.url}/share/{token}/", timeout=10)

    assert response.status_code == 404
    log = server_log(live_server_process)
    assert "GET /share/[Filtered]/" in log
    assert token not in log
