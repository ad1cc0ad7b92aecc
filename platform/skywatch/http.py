"""Django's HTTP side under the ASGI server, with one hop to a thread per request.

Django's own ASGIHandler runs the middleware chain in async mode. Every middleware of the
chain is a sync `MiddlewareMixin` (security, sessions, CSRF, auth, messages, allauth, axes,
CSP, whitenoise), and in async mode each one hops to a thread and back for its request half
and again for its response half; the signals, the view and `response.close()` hop too, and
every request gets a thread executor of its own (`ThreadSensitiveContext`). On 2 cores that
cost ~6 ms a request, five times what the view itself costs (docs/BENCHMARKS.md, REST).

Here the body is read and the response sent on the event loop, and everything in between
(request_started, the whole sync middleware chain and view, request_finished) runs in one call
on a thread of the process's HTTP pool: what a threaded WSGI server does, one request per
thread, with the ASGI server's sockets and websockets beside it. The pool is its own
(`WEB_THREADS` requests at once), so views that wait on a slow provider cannot take the
threads the websockets read the database with; each thread keeps at most one database
connection (CONN_MAX_AGE).
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


@functools.cache
def http_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.WEB_THREADS, thread_name_prefix="http")


def in_pool(function):
    return sync_to_async(function, thread_sensitive=False, executor=http_threads())


class OneHopASGIHandler(ASGIHandler):
    """ASGIHandler whose middleware chain and view run synchronously, in one thread hop."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await in_pool(self.respond)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    # A streamed body was read while sending; request_finished comes after it.
                    await in_pool(response.close)()
        finally:
            body_file.close()

    async def send_response(self, response, send) -> None:
        if response.streaming and not response.is_async:
            # A file or a generator is read a chunk at a time on the pool: Django's own path
            # reads it whole on the one thread-sensitive thread, queued behind every other
            # sync call of the process.
            chunks = iter(response.streaming_content)
            read = in_pool(next)

            async def pooled():
                while (chunk := await read(chunks, None)) is not None:
                    yield chunk

            response.streaming_content = pooled()
        await super().send_response(response, send)

    def respond(self, scope: dict, body_file):
        """What a WSGI handler does between reading the request and writing the answer."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The body is in memory: request_finished (database connections returned) now.
            response.close()
        return response
