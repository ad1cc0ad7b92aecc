"""Celery entry points of alert delivery; thin: load by id, call one function, retry with
backoff on failure (a slow or failing SMTP server or push service delays only these)."""

from __future__ import annotations

from celery import shared_task

from notifications.email import alert_email_send
from notifications.push import alert_push_send

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
}


@shared_task(name="notifications.tasks.alert_email_task", **RETRY)
def alert_email_task(user_id: int, event_ids: list[int]) -> int:
    """One e-mail with the user's events of a batch (idempotent: sent events are marked)."""
    return alert_email_send(user_id=user_id, event_ids=event_ids)


@shared_task(name="notifications.tasks.alert_push_task", **RETRY)
def alert_push_task(user_id: int, event_ids: list[int]) -> int:
    """The user's events of a batch to each of their browsers (idempotent like the e-mail)."""
    return alert_push_send(user_id=user_id, event_ids=event_ids)
