"""Probes: /healthz says the process answers, /readyz says its dependencies answer too."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0
# A refresh older than this many effective intervals is reported as stale.
STALE_AFTER_INTERVALS = 3
# At most this many leftover pings are drained before the channel is released.
MAX_DRAIN = 20
PROBE_PATHS = {"/healthz", "/healthz/", "/readyz", "/readyz/"}


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 while the process can answer a request at all."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, channel layer and broker answer, else 503 naming them;
    timings and the scheduler (provider, budget, followed cities) only for staff and probes."""
    checks = {"database": database_check, "channel_layer": channel_layer_check}
    if settings.REDIS_URL:
        checks["broker"] = broker_check
    results = {name: run_check(check) for name, check in checks.items()}
    down = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "unavailable" if down else "ok", "down": down}
    if may_see_details(request):
        body.update(checks=results, scheduler=scheduler_status())
    return JsonResponse(body, status=503 if down else 200)


def may_see_details(request: HttpRequest) -> bool:
    """A caller from the probes' networks (HEALTH_DETAIL_NETWORKS: loopback unless configured),
    or signed in as staff; prod answers probes before the session middleware, so it is read here."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        address = None
    if address is not None:
        for network in settings.HEALTH_DETAIL_NETWORKS:
            if address in ipaddress.ip_network(network, strict=False):
                return True
    user = getattr(request, "user", None)
    if user is None:
        from skywatch.accounts.selectors import user_for_session

        user = user_for_session(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    return bool(user is not None and user.is_authenticated and user.is_staff)


def run_check(check: Callable[[], None]) -> dict:
    """Run one check, timing it; a failure is logged in full and reported by class name only."""
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        logger.warning("Readiness check %s failed", check.__name__, exc_info=True)
        result = {"ok": False, "error": type(exc).__name__}
    else:
        result = {"ok": True}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def database_check() -> None:
    """A round-trip to the default database."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def channel_layer_check() -> None:
    """A message sent to a fresh group comes back through the channel layer (Redis pub/sub)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("CHANNEL_LAYERS is not configured")

    async def round_trip() -> None:
        channel = await layer.new_channel("health.")
        group = f"health.{uuid.uuid4().hex}"
        await layer.group_add(group, channel)
        receiver = asyncio.ensure_future(layer.receive(channel))
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                wait = 0.05
                # Pub/sub delivers only to a live subscription: send again until it arrives.
                while not receiver.done():
                    await layer.group_send(group, {"type": "health.ping"})
                    await asyncio.wait({receiver}, timeout=wait)
                    wait = min(wait * 2, 0.5)
            if receiver.result().get("type") != "health.ping":
                raise RuntimeError("channel layer returned another message")
        finally:
            with contextlib.suppress(Exception):
                await layer.group_discard(group, channel)
            # A cancelled receive is what releases the channel (as when a consumer leaves);
            # receives that return at once are taking extra pings off it first.
            for _ in range(MAX_DRAIN):
                if not receiver.done() or receiver.exception() is not None:
                    break
                receiver = asyncio.ensure_future(layer.receive(channel))
                await asyncio.sleep(0)
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver

    async_to_sync(round_trip)()


def broker_check() -> None:
    """The Celery broker (Redis) answers PING."""
    import redis

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def scheduler_status() -> dict:
    """The refresh scheduler's last successful run, reported without failing readiness."""
    from subscriptions.planning import refresh_status

    try:
        status = dict(refresh_status())
    except Exception as exc:
        logger.warning("Could not read the refresh status", exc_info=True)
        return {"state": "unknown", "error": type(exc).__name__}
    status["state"] = scheduler_state(
        last_success_at=status.get("last_success_at"),
        interval_seconds=status.get("effective_interval_seconds") or status.get("interval_seconds"),
    )
    return status


def scheduler_state(*, last_success_at: str | None, interval_seconds: int | None) -> str:
    """`never`, `fresh` or `stale` (no success within a few effective intervals)."""
    if not last_success_at:
        return "never"
    last = datetime.fromisoformat(str(last_success_at))
    if timezone.is_naive(last):
        last = last.replace(tzinfo=UTC)
    age = (timezone.now() - last).total_seconds()
    limit = STALE_AFTER_INTERVALS * max(1, int(interval_seconds or 0))
    return "fresh" if age <= limit else "stale"


class ProbeMiddleware:
    """Answers probes before host validation and the HTTPS redirect (kubelet sends the pod IP)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PROBE_PATHS:
            view = healthz if request.path_info.startswith("/healthz") else readyz
            return view(request)
        return self.get_response(request)
