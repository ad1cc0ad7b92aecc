"""The OpenWeather key never leaks: not in errors, tracebacks, reprs or logs, even at DEBUG."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from tests.weather_provider.conftest import FAKE_OPEN_METEO_KEY, FAKE_OPENWEATHER_KEY, replay
from weather_provider import secrets
from weather_provider.base import Location, ProviderError
from weather_provider.http import DEFAULT_TIMEOUT, retry_after_seconds
from weather_provider.openweather import API_URL, OpenWeatherProvider

PARIS = Location(id=1, latitude=48.8589, longitude=2.32)
# What requests really says on a timeout: the full URL, query string and key included.
LEAKY_URL = f"/data/2.5/weather?lat=48.8589&lon=2.3200&units=metric&appid={FAKE_OPENWEATHER_KEY}"


def everything_about(error: BaseException) -> str:
    """All the text an error can carry into a log or an error report."""
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), repr(vars(error))]
    )


# --- redact and secret_values -----------------------------------------------------------


def test_redact_removes_the_configured_key(settings):
    settings.OPENWEATHER_API_KEY = FAKE_OPENWEATHER_KEY

    text = secrets.redact(f"key {FAKE_OPENWEATHER_KEY} in 'x{FAKE_OPENWEATHER_KEY}y'")

    assert FAKE_OPENWEATHER_KEY not in text
    assert text == "key [redacted] in 'x[redacted]y'"


def test_redact_blanks_key_parameters_whatever_their_value():
    text = secrets.redact("GET /weather?lat=1&appid=0123456789abcdef&units=metric APIKEY=zz x")
    assert text == "GET /weather?lat=1&appid=[redacted]&units=metric APIKEY=[redacted] x"


def test_redact_leaves_ordinary_text_alone(settings):
    settings.OPENWEATHER_API_KEY = FAKE_OPENWEATHER_KEY
    assert secrets.redact("Paris, 7.4 °C, light rain") == "Paris, 7.4 °C, light rain"
    assert secrets.redact("") == ""


def test_secret_values_lists_every_provider_key(settings, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-the-mounted-secret-file\n")
    settings.OPENWEATHER_API_KEY = FAKE_OPENWEATHER_KEY
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)
    settings.OPEN_METEO_API_KEY = FAKE_OPEN_METEO_KEY

    values = secrets.secret_values()

    assert {FAKE_OPENWEATHER_KEY, FAKE_OPEN_METEO_KEY, "from-the-mounted-secret-file"} <= set(
        values
    )
    assert values == sorted(values, key=len, reverse=True)
    assert "" not in values


def test_secret_values_ignore_an_unreadable_file(settings, tmp_path):
    settings.OPENWEATHER_API_KEY_FILE = str(tmp_path / "missing")
    assert isinstance(secrets.secret_values(), list)


def test_a_key_in_use_is_redacted_even_when_settings_change(settings):
    OpenWeatherProvider(api_key="a-key-passed-in-directly-0001").close()
    settings.OPENWEATHER_API_KEY = ""
    assert secrets.redact("x a-key-passed-in-directly-0001 y") == "x [redacted] y"


def test_redact_works_before_django_is_configured(monkeypatch):
    class Unconfigured:
        def __getattr__(self, name):
            raise ImproperlyConfigured("settings are not configured")

    secrets.register_secret("registered-before-setup-0001")
    monkeypatch.setattr("django.conf.settings", Unconfigured())

    assert (
        secrets.redact("x registered-before-setup-0001 appid=1") == "x [redacted] appid=[redacted]"
    )


def test_very_short_values_are_not_treated_as_secrets():
    secrets.register_secret("abc")
    assert "abc" not in secrets.secret_values()


# --- key loading ------------------------------------------------------------------------


def test_the_environment_variable_wins_over_the_file(settings, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("the-file-key-000000")
    settings.OPENWEATHER_API_KEY = FAKE_OPENWEATHER_KEY
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)
    assert secrets.openweather_api_key() == FAKE_OPENWEATHER_KEY


def test_a_rotated_key_file_is_read_again(settings, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("first-key-0000000000")
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)
    assert secrets.openweather_api_key() == "first-key-0000000000"
    assert secrets.openweather_api_key() == "first-key-0000000000"

    key_file.write_text("second-key-000000000")
    stamp = key_file.stat().st_mtime_ns + 1_000_000_000
    os.utime(key_file, ns=(stamp, stamp))

    assert secrets.openweather_api_key() == "second-key-000000000"


def test_an_unreadable_key_file_is_a_clear_permanent_error(settings, tmp_path):
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(tmp_path / "missing-key")
    provider = OpenWeatherProvider()

    with pytest.raises(ProviderError) as caught:
        provider.search("Paris")

    assert caught.value.permanent is True
    assert "missing-key" in caught.value.message
    assert "cannot be read" in caught.value.message
    provider.close()


def test_an_empty_key_file_is_a_clear_permanent_error(settings, tmp_path):
    key_file = tmp_path / "empty-key"
    key_file.write_text("\n")
    settings.OPENWEATHER_API_KEY = ""
    settings.OPENWEATHER_API_KEY_FILE = str(key_file)

    with pytest.raises(ProviderError, match="empty") as caught:
        secrets.openweather_api_key()

    assert caught.value.permanent is True


# --- errors never carry the key ---------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"cod": 401, "message": f"Invalid API key {FAKE_OPENWEATHER_KEY}"}, "status": 401},
        {"json": {"cod": 400, "message": f"bad appid={FAKE_OPENWEATHER_KEY}"}, "status": 400},
        {"body": "Internal error", "status": 500},
        {"body": requests.exceptions.ConnectTimeout(f"Max retries exceeded with url: {LEAKY_URL}")},
        {"body": requests.exceptions.ReadTimeout(f"Read timed out. (url: {LEAKY_URL})")},
        {"body": requests.exceptions.ConnectionError(f"Failed to connect: {LEAKY_URL}")},
        {"body": f"<html>{FAKE_OPENWEATHER_KEY}", "status": 200},
    ],
    ids=[
        "bad-key",
        "bad-request",
        "server-error",
        "connect-timeout",
        "read-timeout",
        "down",
        "junk",
    ],
)
def test_no_error_ever_contains_the_key(mocked, openweather, answer):
    mocked.get(f"{API_URL}/data/2.5/weather", **answer)

    with pytest.raises(ProviderError) as caught:
        openweather.current([PARIS])

    assert FAKE_OPENWEATHER_KEY not in everything_about(caught.value)
    # The requests exception (whose text names the URL) is not chained to ours.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_reprs_never_show_the_key(openweather):
    secret = secrets.Secret(FAKE_OPENWEATHER_KEY)
    assert secret.reveal() == FAKE_OPENWEATHER_KEY
    texts = [
        repr(secret),
        str(secret),
        f"{secret}",
        repr(openweather),
        repr(openweather.http),
        repr(openweather.http.session.auth),
        repr(vars(openweather)),
        repr(vars(openweather.http)),
    ]
    assert all(FAKE_OPENWEATHER_KEY not in text for text in texts)


# Logs never carry the key: the filter on every handler is tested in tests/security.


class FakeOpenWeather(BaseHTTPRequestHandler):
    """A local stand-in for api.openweathermap.org whose answer each test chooses."""

    behaviour = "ok"

    def do_GET(self):
        if self.behaviour == "slow":
            time.sleep(0.6)
        status, body = {
            "ok": (200, b"[]"),
            "401": (401, b'{"cod":401,"message":"Invalid API key."}'),
            "500": (500, b'{"cod":500,"message":"Internal error"}'),
            "slow": (200, b"[]"),
        }[self.behaviour]
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_openweather():
    server = None
    for port in range(8110, 8120):
        with contextlib.suppress(OSError):
            server = ThreadingHTTPServer(("127.0.0.1", port), FakeOpenWeather)
            break
    if server is None:
        pytest.fail("no free port in 8110-8119")
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("behaviour", ["ok", "401", "500", "slow"])
def test_debug_logs_of_real_calls_never_contain_the_key(caplog, fake_openweather, behaviour):
    host, port = fake_openweather.server_address
    FakeOpenWeather.behaviour = behaviour
    provider = OpenWeatherProvider(
        api_key=FAKE_OPENWEATHER_KEY, base_url=f"http://{host}:{port}", timeout=(1.0, 0.3)
    )
    provider.http.session.trust_env = False
    caplog.set_level(logging.DEBUG)

    error = None
    try:
        provider.search("Paris")
    except ProviderError as exc:
        error = exc
    provider.close()

    assert FAKE_OPENWEATHER_KEY not in caplog.text
    assert all(FAKE_OPENWEATHER_KEY not in r.getMessage() for r in caplog.records)
    # urllib3 really logged the request line, with the key blanked out.
    if behaviour != "slow":
        assert "appid=[redacted]" in caplog.text
    if behaviour == "ok":
        assert error is None
    else:
        assert error is not None
        assert FAKE_OPENWEATHER_KEY not in everything_about(error)


def test_a_logged_provider_error_never_shows_the_key(caplog, mocked, openweather):
    mocked.get(
        f"{API_URL}/data/2.5/weather",
        body=requests.exceptions.ReadTimeout(f"Read timed out. (url: {LEAKY_URL})"),
    )
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("subscriptions.refresh")

    try:
        openweather.current([PARIS])
    except ProviderError:
        logger.exception("Refresh failed")

    assert "did not answer in time" in caplog.text
    assert FAKE_OPENWEATHER_KEY not in caplog.text


def test_the_key_is_sent_to_openweather(mocked, openweather):
    replay(mocked, "openweather/direct_unknown")
    openweather.search("Xyzzyqwv")
    assert f"appid={FAKE_OPENWEATHER_KEY}" in mocked.calls[0].request.url


# --- HTTP details -----------------------------------------------------------------------


def test_every_call_has_a_connect_and_a_read_timeout():
    connect, read = DEFAULT_TIMEOUT
    assert 0 < connect <= 5
    assert 0 < read <= 15


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 9.0), ("", 9.0), ("12", 12.0), ("-3", 0.0), ("soon", 9.0), ("1.5", 1.5)],
)
def test_retry_after_reads_seconds(header, seconds):
    assert retry_after_seconds(header, default=9.0) == seconds


def test_retry_after_reads_a_future_http_date():
    future = time.time() + 120
    header = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(future))
    assert 100 < retry_after_seconds(header, default=None) <= 120


def test_retry_after_reads_a_date_without_a_zone():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 -0000", default=None) == 0.0
