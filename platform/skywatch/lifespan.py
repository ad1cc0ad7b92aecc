"""ASGI lifespan: starts and stops the embedded refresh scheduler inside the web server."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class LifespanApp:
    """Answers ASGI lifespan events and hands every other scope to the wrapped app."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        from skywatch.gc_tuning import GcTuner
        from subscriptions.scheduler import embedded_scheduler

        collector = GcTuner.from_settings()
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await embedded_scheduler.start()
                except Exception as exc:  # a broken scheduler must not hide why
                    logger.exception("Embedded scheduler failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                collector.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await collector.stop()
                await embedded_scheduler.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
