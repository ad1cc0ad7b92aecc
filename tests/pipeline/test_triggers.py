"""Who starts a cycle: the embedded scheduler, Celery beat's task and its batch tasks; one at a time."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django_celery_beat.models import PeriodicTask

from skywatch.celery import app as celery_app
from skywatch.lifespan import LifespanApp
from subscriptions import coordination, planning, refresh
from subscriptions.models import City, Observation
from subscriptions.scheduler import EmbeddedScheduler
from subscriptions.tasks import city_batch_refresh_task, refresh_followed_cities_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Tasks sent with .delay() run at once in this process, errors included."""
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = previous


def in_server_thread(function):
    """Run `function` in another thread, as the server's scheduler does (own DB connection)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result(timeout=30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_embedded_scheduler_runs_the_refresh_service(counting, follow):
    cities = follow(2)
    scheduler = EmbeddedScheduler()

    assert in_server_thread(scheduler.run_once) is True

    assert scheduler.runs == 1
    assert sorted(counting.counter.cities) == sorted(city.pk for city in cities)
    assert Observation.objects.filter(city__in=cities).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_cycle_is_skipped_while_another_holds_the_lock(counting, follow):
    follow(1)
    scheduler = EmbeddedScheduler()
    other_cycle = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        with coordination.cycle_lock() as held:
            assert held
            other_cycle.set()
            release.wait(5)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    other_cycle.wait(5)
    try:
        assert in_server_thread(scheduler.run_once) is False
        assert refresh.refresh_followed_cities().skipped
        assert refresh.refresh_fan_out(enqueue=lambda *args: None) == 0
    finally:
        release.set()
        holder.join()

    assert counting.calls == []
    assert in_server_thread(scheduler.run_once) is True
    assert len(counting.calls) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_the_server_lifespan_starts_the_scheduler_and_stops_it(counting, follow, settings):
    settings.WEATHER_EMBEDDED_SCHEDULER = True
    settings.WEATHER_REFRESH_SECONDS = 1
    cities = await sync_to_async(follow)(2)
    sent: list[dict] = []
    inbox: asyncio.Queue = asyncio.Queue()

    async def receive():
        return await inbox.get()

    async def send(message):
        sent.append(message)

    server = asyncio.create_task(LifespanApp(app=None)({"type": "lifespan"}, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    for _ in range(100):
        refreshed = await City.objects.filter(
            pk__in=[c.pk for c in cities], latest__isnull=False
        ).acount()
        if refreshed == 2:
            break
        await asyncio.sleep(0.05)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(server, 10)
    await sync_to_async(connections.close_all)()

    assert refreshed == 2
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_the_beat_task_queues_one_batch_task_per_batch(use_provider, follow, eager_celery):
    provider = use_provider("counting", batch_size=2)
    cities = follow(5)

    batches = refresh_followed_cities_task.apply().get()

    assert batches == 3
    assert [len(call.ids) for call in provider.calls] == [2, 2, 1]
    assert Observation.objects.filter(city__in=cities).count() == 5
    assert planning.refresh_status()["last_success_at"] is not None


def test_a_new_cycle_waits_for_the_previous_cycle_batches(use_provider, follow):
    provider = use_provider("counting", batch_size=1)
    follow(2)
    queued: list = []

    assert refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task)) == 2
    assert refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task)) == 0

    for city_ids, enqueued_at, kind in list(queued):
        city_batch_refresh_task.apply(args=(city_ids, enqueued_at, kind))

    assert len(provider.calls) == 2
    assert refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task)) == 2


def test_a_batch_task_skips_cities_unfollowed_since_it_was_queued(counting, follow):
    kept, dropped = follow(2)
    queued: list = []
    refresh.refresh_fan_out(enqueue=lambda *task: queued.append(task))
    dropped.subscriptions.all().delete()

    for city_ids, enqueued_at, kind in queued:
        city_batch_refresh_task.apply(args=(city_ids, enqueued_at, kind))

    assert counting.counter.cities == [kept.pk]


def test_a_migration_created_the_beat_schedule_for_the_refresh_task():
    task = PeriodicTask.objects.get(name=planning.PERIODIC_TASK_NAME)

    assert task.task == planning.PERIODIC_TASK
    assert task.task in celery_app.tasks
    assert task.enabled
    assert task.interval.period == "seconds"
    assert task.interval.every >= 1


def test_in_beat_mode_the_interval_edited_in_the_admin_is_the_configured_one(
    settings, refresh_every
):
    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/3"
    settings.WEATHER_EMBEDDED_SCHEDULER = False
    refresh_every(45)
    settings.WEATHER_REFRESH_SECONDS = 300

    assert planning.refresh_interval() == 45

    settings.WEATHER_EMBEDDED_SCHEDULER = True
    assert planning.refresh_interval() == 300
