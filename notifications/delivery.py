"""Who is told what about fired alerts, once the batch commits: the websocket at once, e-mail
and Web Push by a Celery task (distributed mode) or a background thread (embedded mode) running
the same function with retries, so a slow SMTP server or push service never delays a refresh."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections, transaction
from tenacity import Retrying, stop_after_attempt, wait_exponential

from notifications.models import AlertEvent
from notifications.rules import event_as_dict
from skywatch.events import notify_each

logger = logging.getLogger(__name__)

THREAD_ATTEMPTS = 5
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future] = set()


def alert_events_deliver_on_commit(events: list[AlertEvent]) -> None:
    """After commit: each event's `alert` message to its owner's tabs, and one e-mail and one
    push job per user for that user's events of the batch."""
    messages = [
        (
            event.user_id,
            {
                "type": "alert",
                "event": event_as_dict(
                    event, units=event.user.units, city=event.alert.subscription.city
                ),
            },
        )
        for event in events
        if event.send_web
    ]
    jobs: dict[tuple[str, int], list[int]] = defaultdict(list)
    for event in events:
        for channel in ("email", "push"):
            if getattr(event, f"send_{channel}"):
                jobs[(channel, event.user_id)].append(event.pk)

    def deliver() -> None:
        notify_each(messages)
        for (channel, user_id), event_ids in jobs.items():
            delivery_start(channel, user_id=user_id, event_ids=event_ids)

    transaction.on_commit(deliver)


def delivery_start(channel: str, *, user_id: int, event_ids: list[int]) -> None:
    """Hand one user's e-mail or push job to Celery or to the background thread."""
    if settings.ALERT_DELIVERY == "celery":
        from notifications import tasks

        task = tasks.alert_email_task if channel == "email" else tasks.alert_push_task
        try:
            task.delay(user_id, event_ids)
        except Exception:
            logger.exception("Could not queue the %s of alerts %s", channel, event_ids)
        return
    from notifications.email import alert_email_send
    from notifications.push import alert_push_send

    function = alert_email_send if channel == "email" else alert_push_send
    background_run(function, user_id=user_id, event_ids=event_ids)


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alert-delivery")
        return _executor


def background_run(function: Callable[..., object], **kwargs) -> Future:
    """Run `function(**kwargs)` in the background with retries and backoff (embedded mode)."""

    def run() -> None:
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(THREAD_ATTEMPTS),
                wait=wait_exponential(multiplier=settings.ALERT_RETRY_SECONDS, max=300),
                reraise=True,
            ):
                with attempt:
                    function(**kwargs)
        except Exception:
            logger.exception("Giving up on %s(%s)", function.__name__, kwargs)
        finally:
            connections.close_all()

    future = _pool().submit(run)
    _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


def background_wait(timeout: float = 30) -> None:
    """Wait for the background deliveries started so far (tests, shutdown)."""
    wait(list(_pending), timeout=timeout)
