"""The Celery app; tasks live in each app's tasks.py."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from skywatch.logs import redact_every_handler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skywatch.settings")

app = Celery("skywatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery installs its own handlers when it hijacks the root logger: they redact secrets too.
after_setup_logger.connect(redact_every_handler, weak=False)
after_setup_task_logger.connect(redact_every_handler, weak=False)
