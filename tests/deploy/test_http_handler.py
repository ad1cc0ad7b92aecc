"""Django's HTTP side under the ASGI server: one thread hop per request (skywatch.http)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from skywatch.http import OneHopASGIHandler

seen: dict[str, object] = {}


@csrf_exempt
def plain(request):
    seen["thread"] = threading.current_thread().name
    seen["body"] = request.body
    return HttpResponse(f"hello {request.method}", content_type="text/plain")


def streamed(request):
    def parts():
        yield b"one,"
        seen["finished_before_last_part"] = seen.get("finished", 0)
        yield b"two"

    return StreamingHttpResponse(parts(), content_type="text/plain")


both_in = threading.Barrier(2, timeout=5)


def waits_for_another(request):
    both_in.wait()  # broken (an error) unless a second request runs at the same time
    return HttpResponse("together")


urlpatterns = [
    path("plain", plain),
    path("streamed", streamed),
    path("together", waits_for_another),
]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    seen.clear()

    def count(name):
        def receiver(**kwargs):
            seen[name] = seen.get(name, 0) + 1

        return receiver

    started, finished = count("started"), count("finished")
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield OneHopASGIHandler()
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def scope(path: str, method: str = "GET") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def answer(handler, path: str, *bodies: bytes, method: str = "GET"):
    """The status, headers and whole body the handler sends for one request."""
    app = ApplicationCommunicator(handler, scope(path, method))
    parts = bodies or (b"",)
    for index, body in enumerate(parts):
        await app.send_input(
            {"type": "http.request", "body": body, "more_body": index < len(parts) - 1}
        )
    start = await app.receive_output(5)
    body = b""
    while True:
        message = await app.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await app.wait(5)
    return start["status"], dict(start["headers"]), body


async def test_the_middleware_chain_and_view_run_off_the_event_loop_in_one_request_cycle(handler):

    status, headers, body = await answer(handler, "/plain", b"a=", b"1", method="POST")

    assert (status, body) == (200, b"hello POST")
    assert seen["body"] == b"a=1"  # the body arrived in two messages, read whole
    assert seen["thread"].startswith("http")  # the HTTP pool's, not the event loop's
    assert (seen["started"], seen["finished"]) == (1, 1)
    # The middleware chain ran: its headers are on the answer.
    assert headers[b"X-Frame-Options"] == b"DENY"


async def test_a_streamed_answer_is_sent_whole_and_finishes_the_request_after_its_body(handler):
    status, _, body = await answer(handler, "/streamed")

    assert (status, body) == (200, b"one,two")
    assert seen["finished_before_last_part"] == 0
    assert seen["finished"] == 1


async def test_an_unknown_path_is_django_s_404_through_the_same_hop(handler):
    status, _, _ = await answer(handler, "/nowhere")

    assert status == 404
    assert seen["finished"] == 1


async def test_a_slow_view_does_not_hold_up_the_next_request(handler):
    both_in.reset()
    answers = await asyncio.gather(answer(handler, "/together"), answer(handler, "/together"))
    assert [(status, body) for status, _, body in answers] == [(200, b"together")] * 2


async def test_a_client_gone_before_its_body_arrived_gets_no_answer(handler):
    app = ApplicationCommunicator(handler, scope("/plain", "POST"))
    await app.send_input({"type": "http.request", "body": b"a", "more_body": True})
    await app.send_input({"type": "http.disconnect"})

    await app.wait(5)
    assert await app.receive_nothing(0.1)
    assert "started" not in seen


def test_it_serves_http_only(handler):
    with pytest.raises(ValueError, match="HTTP"):
        asyncio.run(handler({"type": "websocket"}, None, None))
