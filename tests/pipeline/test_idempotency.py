"""A duplicated or retried batch never stores a reading twice, nor calls the provider twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from subscriptions import refresh
from subscriptions.models import Observation
from subscriptions.tasks import city_batch_refresh_task

pytestmark = pytest.mark.django_db

OBSERVED_AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def test_the_same_batch_task_run_twice_calls_once_and_stores_once(counting, follow):
    cities = follow(3)
    ids = [city.pk for city in cities]
    enqueued_at = timezone.now().isoformat()

    city_batch_refresh_task.apply(args=(ids, enqueued_at))
    city_batch_refresh_task.apply(args=(ids, enqueued_at))

    assert len(counting.calls) == 1
    assert Observation.objects.filter(city__in=cities).count() == 3


def test_the_same_reading_stored_twice_is_one_observation(counting, follow):
    cities = follow(2)
    counting.observed_at = OBSERVED_AT

    refresh.refresh_cities(cities)
    refresh.refresh_cities(cities)

    assert len(counting.calls) == 2
    assert Observation.objects.filter(city__in=cities).count() == 2
    for city in cities:
        city.refresh_from_db()
        assert city.latest.observed_at == OBSERVED_AT


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_duplicate_tasks_store_each_reading_once(counting, follow):
    cities = follow(4)
    ids = [city.pk for city in cities]
    counting.observed_at = OBSERVED_AT
    counting.rendezvous = threading.Barrier(2)  # both copies are in flight before either stores
    enqueued_at = timezone.now().isoformat()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def duplicate() -> None:
        try:
            start.wait()
            city_batch_refresh_task.apply(args=(ids, enqueued_at), throw=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=duplicate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(counting.calls) == 2
    assert Observation.objects.filter(city__in=cities).count() == 4
    assert all(c.latest_id for c in type(cities[0]).objects.filter(pk__in=ids))
