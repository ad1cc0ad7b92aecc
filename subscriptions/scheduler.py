"""Embedded mode: the ASGI server itself refreshes followed cities every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class EmbeddedScheduler:
    """Calls `refresh_followed_cities` every WEATHER_REFRESH_SECONDS; never two runs at once."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._running = threading.Lock()
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
            await asyncio.to_thread(self.run_once)
            await asyncio.sleep(max(1, settings.WEATHER_REFRESH_SECONDS))

    def run_once(self) -> bool:
        """One refresh, skipped when the previous one is still running."""
        from subscriptions.refresh import refresh_followed_cities

        if not self._running.acquire(blocking=False):
            logger.info("Previous refresh still running; skipping this tick")
            return False
        try:
            close_old_connections()
            summary = refresh_followed_cities()
            self.runs += 1
            logger.info(
                "Refreshed %d cities in %d calls (%d failed) in %.1fs",
                summary.cities,
                summary.calls,
                summary.failures,
                summary.seconds,
            )
            return True
        except Exception:
            logger.exception("Refresh failed")
            return False
        finally:
            close_old_connections()
            self._running.release()


embedded_scheduler = EmbeddedScheduler()
