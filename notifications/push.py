"""The alert push: one message per event to every browser the user enabled Web Push in."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import AlertEvent, PushSubscription
from notifications.webpush import PushGone, push_send, webpush_configured

logger = logging.getLogger(__name__)


def alert_push_payload(event: AlertEvent) -> dict:
    """What the service worker shows: {title, body, url, tag}; clicking opens the city page."""
    city = event.alert.subscription.city
    return {
        "title": f"Skywatch: {city.label}",
        "body": event.message,
        "url": reverse("city", args=[city.pk]),
        "tag": f"alert-{event.alert_id}",
    }


def alert_push_send(*, user_id: int, event_ids: list[int]) -> int:
    """Push the user's events not pushed yet to each of their browsers; a browser the push
    service no longer knows (404/410) is forgotten. Raises when a push service fails, to retry."""
    if not webpush_configured():
        return 0
    with transaction.atomic():
        events = list(
            AlertEvent.objects.select_for_update(of=("self",))
            .filter(pk__in=event_ids, user_id=user_id, send_push=True, pushed_at__isnull=True)
            .select_related("alert__subscription__city")
            .order_by("fired_at", "pk")
        )
        browsers = list(PushSubscription.objects.filter(user_id=user_id))
        if not events or not browsers:
            return 0
        failed: Exception | None = None
        gone: list[int] = []
        sent = 0
        for browser in browsers:
            try:
                for event in events:
                    push_send(browser.as_info(), alert_push_payload(event))
                sent += 1
            except PushGone:
                gone.append(browser.pk)
            except Exception as exc:
                failed = exc
                logger.warning("Push to %s failed: %s", browser.endpoint[:60], exc)
        if gone:
            PushSubscription.objects.filter(pk__in=gone).delete()
        if sent or failed is None:
            done = [e.pk for e in events]
            AlertEvent.objects.filter(pk__in=done).update(pushed_at=timezone.now())
    if failed is not None and not sent:
        # Nothing reached any browser: retry the whole job (the forgotten ones stay gone).
        raise failed
    return len(events)
