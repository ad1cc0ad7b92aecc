"""The web process's garbage collector, tuned for many long-lived sockets.

A process holding 10,000 websockets tracks millions of long-lived objects (each socket's
consumer, tasks, queues and protocol state). Python's full collection walks all of them and,
on this benchmark's 2 cores, stopped the process for about a second every few seconds while
a refresh was delivering frames, finding nothing to collect (docs/BENCHMARKS.md, fan-out):
every frame queued behind the pause.

So what has survived a while is frozen (`gc.freeze()`: full collections skip it), every
`WEB_GC_FREEZE_SECONDS`; every `WEB_GC_FULL_SECONDS` it is unfrozen and collected once, so the
reference cycles of sockets closed since (refcounting frees the rest at once) cost one pause
a quarter of an hour instead of one every few seconds. 0 turns the tuning off.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)


class GcTuner:
    """Freezes survivors on a timer and collects everything on a longer one."""

    def __init__(self, *, freeze_seconds: float, full_seconds: float) -> None:
        self.freeze_seconds = freeze_seconds
        self.full_seconds = full_seconds
        self._task: asyncio.Task | None = None

    @classmethod
    def from_settings(cls) -> GcTuner:
        return cls(
            freeze_seconds=getattr(settings, "WEB_GC_FREEZE_SECONDS", 10.0),
            full_seconds=getattr(settings, "WEB_GC_FULL_SECONDS", 900.0),
        )

    def start(self) -> None:
        if self.freeze_seconds > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()

    def collect_all(self) -> int:
        """Unfreeze and collect everything (the rare full pause); returns what was collected."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        logger.info(
            "Full garbage collection: %d objects in %.0f ms",
            collected,
            (time.perf_counter() - started) * 1000,
        )
        return collected

    async def _run(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.freeze_seconds)
            if self.full_seconds > 0 and time.monotonic() - last_full >= self.full_seconds:
                self.collect_all()
                last_full = time.monotonic()
            gc.freeze()
