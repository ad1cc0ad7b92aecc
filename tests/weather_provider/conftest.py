"""Recorded provider answers replayed with `responses`, and providers wired to a fake key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from responses import matchers

from weather_provider.open_meteo import OpenMeteoProvider
from weather_provider.openweather import OpenWeatherProvider

RECORDINGS = Path(__file__).parent / "recordings"
# Obviously fake; the real key only ever comes from the environment or a mounted file.
FAKE_OPENWEATHER_KEY = "fake0penweather0key0for0tests0000"
FAKE_OPEN_METEO_KEY = "fake-open-meteo-commercial-key-0000"


def recording(name: str) -> dict:
    """One recorded exchange: {"note", "request": {"method", "url", "query"}, "response":
    {"status", "headers", "json" or "body"}}."""
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def replay(
    mock: responses.RequestsMock,
    name: str,
    *,
    url: str | None = None,
    status: int | None = None,
    headers: dict | None = None,
) -> responses.BaseResponse:
    """Answer the recorded request (its query parameters must all be sent) with its response:
    its "json", or its raw "body" (an answer that is not JSON) with its Content-Type."""
    exchange = recording(name)
    request, response = exchange["request"], exchange["response"]
    content_type = next(
        (v for k, v in response["headers"].items() if k.lower() == "content-type"), "text/plain"
    )
    recorded = {k: v for k, v in response["headers"].items() if k.lower() != "content-type"}
    match = [matchers.query_param_matcher(request["query"], strict_match=False)]
    if "json" in response:
        content = {"json": response["json"]}
    else:
        content = {"body": response["body"], "content_type": content_type}
    return mock.add(
        request["method"],
        url or request["url"],
        status=status or response["status"],
        headers={**recorded, **(headers or {})},
        match=match,
        **content,
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def open_meteo():
    provider = OpenMeteoProvider(api_key="")
    yield provider
    provider.close()


@pytest.fixture
def openweather():
    provider = OpenWeatherProvider(api_key=FAKE_OPENWEATHER_KEY)
    yield provider
    provider.close()
