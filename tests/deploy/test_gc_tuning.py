"""The web process's collector: survivors frozen on a timer, everything collected on a longer one."""

from __future__ import annotations

import asyncio
import gc
import weakref

from skywatch.gc_tuning import GcTuner
from skywatch.lifespan import LifespanApp


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_survivors_are_frozen_and_a_full_collection_reaches_them_again():
    tuner = GcTuner(freeze_seconds=0.02, full_seconds=3600)
    tuner.start()
    try:
        await asyncio.sleep(0.1)
        assert gc.get_freeze_count() > 0
        garbage = Cycle()
        alive = weakref.ref(garbage)
        await asyncio.sleep(0.1)  # frozen while alive
        del garbage
        gc.collect()  # a normal collection skips the frozen generation: the cycle stays
        assert alive() is not None
        assert tuner.collect_all() >= 1  # the full one unfreezes and finds the dropped cycle
        assert alive() is None
    finally:
        await tuner.stop()
    assert gc.get_freeze_count() == 0


async def test_the_full_collection_comes_round_on_its_own_timer(caplog):
    tuner = GcTuner(freeze_seconds=0.02, full_seconds=0.05)
    with caplog.at_level("INFO", logger="skywatch.gc_tuning"):
        tuner.start()
        await asyncio.sleep(0.3)
        await tuner.stop()
    assert "Full garbage collection" in caplog.text


async def test_zero_turns_it_off():
    tuner = GcTuner(freeze_seconds=0, full_seconds=0)
    tuner.start()
    assert tuner._task is None
    await tuner.stop()


async def test_the_web_server_s_lifespan_starts_and_stops_it(settings):
    settings.WEB_GC_FREEZE_SECONDS = 0.02
    settings.WEB_GC_FULL_SECONDS = 0
    sent, inbox = [], asyncio.Queue()
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        inbox.put_nowait({"type": kind})

    async def receive():
        message = await inbox.get()
        if message["type"] == "lifespan.shutdown":
            await asyncio.sleep(0.1)  # the server runs a while
            assert gc.get_freeze_count() > 0
        return message

    async def send(message):
        sent.append(message["type"])

    await LifespanApp(None)({"type": "lifespan"}, receive, send)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert gc.get_freeze_count() == 0
