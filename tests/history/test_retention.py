"""OBSERVATION_RETENTION_DAYS: older readings are pruned, each city's latest is kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from skywatch.errors import InvalidInput
from subscriptions.models import City, Observation
from subscriptions.services import observations_prune
from subscriptions.tasks import observations_prune_task
from tests.factories import CityFactory
from tests.history.conftest import put_readings


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def test_readings_older_than_the_retention_are_deleted(oslo):
    put_readings(oslo, [days_ago(40), days_ago(31), days_ago(29), days_ago(1)])
    assert observations_prune(older_than_days=30, batch_size=1) == 2
    kept = sorted(Observation.objects.values_list("observed_at", flat=True))
    assert [(timezone.now() - moment).days for moment in kept] == [29, 1]


def test_a_citys_latest_reading_survives_however_old(db):
    quiet, busy = CityFactory(), CityFactory()
    (old_latest,) = put_readings(quiet, [days_ago(90)])
    put_readings(busy, [days_ago(90), days_ago(2)])
    City.objects.filter(pk=quiet.pk).update(latest=old_latest)
    assert observations_prune(older_than_days=30) == 1
    quiet.refresh_from_db()
    assert quiet.latest_id == old_latest.pk
    assert busy.observations.count() == 1


def test_nothing_to_prune_deletes_nothing(oslo):
    put_readings(oslo, [days_ago(1)])
    assert observations_prune(older_than_days=30) == 0
    assert Observation.objects.count() == 1


@pytest.mark.parametrize("days", [0, -5])
def test_a_retention_under_a_day_is_refused(db, days):
    with pytest.raises(InvalidInput):
        observations_prune(older_than_days=days)


def test_every_reading_is_kept_by_default(settings):
    assert settings.OBSERVATION_RETENTION_DAYS is None


def test_the_daily_task_prunes_by_the_setting(settings, oslo):
    put_readings(oslo, [days_ago(10), days_ago(3)])
    settings.OBSERVATION_RETENTION_DAYS = 7
    assert observations_prune_task() == 1
    assert Observation.objects.count() == 1


def test_the_daily_task_keeps_everything_when_retention_is_unset(settings, oslo):
    put_readings(oslo, [days_ago(4000)])
    settings.OBSERVATION_RETENTION_DAYS = None
    assert observations_prune_task() == 0
    assert Observation.objects.count() == 1


def test_a_migration_scheduled_the_retention_task_daily(db):
    task = PeriodicTask.objects.get(task="subscriptions.tasks.observations_prune_task")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("17", "3", "*")
