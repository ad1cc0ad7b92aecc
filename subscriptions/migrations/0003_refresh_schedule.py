"""The beat schedule of the refresh pipeline, created once and editable in the admin after."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

TASK_NAME = "refresh followed cities"
TASK = "subscriptions.tasks.refresh_followed_cities_task"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    seconds = max(1, int(settings.WEATHER_REFRESH_SECONDS))
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
    PeriodicTask.objects.create(
        name=TASK_NAME,
        task=TASK,
        interval=interval,
        # A tick nobody picked up within one interval is dropped: the next one does its work.
        expire_seconds=seconds,
        description="Refresh every followed city within the provider budget (WEATHER_REFRESH_SECONDS when created).",
    )
    # A running beat notices new schedules through this row.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0002_search_history"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
