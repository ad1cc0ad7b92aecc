"""Embedded mode: the ASGI server itself refreshes followed cities every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from django.conf import settings
from django.db import close_old_connections, connections

from skywatch import metrics

logger = logging.getLogger(__name__)


class EmbeddedScheduler:
    """Calls `refresh_followed_cities` every WEATHER_REFRESH_SECONDS, in a thread of the server."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self.runs = 0

    @property
    def enabled(self) -> bool:
        return bool(settings.WEATHER_EMBEDDED_SCHEDULER)

    async def start(self) -> None:
        if not self.enabled or self._task is not None:
            return
        logger.info(
            "Embedded scheduler: refreshing followed cities every %ss",
            settings.WEATHER_REFRESH_SECONDS,
        )
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _loop(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.to_thread(self.run_once)
            # Ticks start an interval apart; a long cycle delays the next tick, never doubles it.
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(1.0, settings.WEATHER_REFRESH_SECONDS - elapsed))

    def run_once(self) -> bool:
        """One refresh cycle; False when another cycle holds the lock or this one broke."""
        from subscriptions.refresh import refresh_followed_cities

        try:
            close_old_connections()
            summary = refresh_followed_cities()
            if summary.skipped:
                return False
            self.runs += 1
            metrics.refresh_cycle_finished(outcome="queued" if summary.cities else "idle")
            # An idle cycle (nobody follows anything) is not worth a line every few seconds.
            logger.log(
                logging.INFO if summary.cities else logging.DEBUG,
                "Refreshed %d cities in %d calls (%d failed, %d deferred) in %.1fs",
                summary.cities,
                summary.calls,
                summary.failures,
                summary.deferred,
                summary.seconds,
            )
            return True
        except Exception:
            metrics.refresh_cycle_finished(outcome="failed")
            logger.exception("Refresh failed")
            return False
        finally:
            # The thread may not run the next cycle; its connection must not outlive this one.
            connections.close_all()


embedded_scheduler = EmbeddedScheduler()
