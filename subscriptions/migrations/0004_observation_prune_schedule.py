"""The daily beat schedule of the retention task; it prunes only when OBSERVATION_RETENTION_DAYS is set."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "prune old readings"
TASK = "subscriptions.tasks.observations_prune_task"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    # Once a day, at a quiet hour (UTC).
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="17",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.create(
        name=TASK_NAME,
        task=TASK,
        crontab=crontab,
        # A run nobody picked up within the day is dropped: the next one prunes the same rows.
        expire_seconds=24 * 3600,
        description="Delete readings older than OBSERVATION_RETENTION_DAYS (does nothing when unset).",
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscriptions", "0003_refresh_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
