"""The alert e-mail: one per user per batch, plain text and HTML, in the user's units and each
city's local time, with links to the city page and to the settings where alerts are managed."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import AlertEvent

logger = logging.getLogger(__name__)


def alert_email_send(*, user_id: int, event_ids: list[int]) -> int:
    """E-mail the user's events that were not e-mailed yet; returns how many it carried.
    Raises on a mail failure so the caller retries; an event is marked only once sent."""
    with transaction.atomic():
        events = list(
            AlertEvent.objects.select_for_update(of=("self",))
            .filter(pk__in=event_ids, user_id=user_id, send_email=True, emailed_at__isnull=True)
            .select_related("user", "alert__subscription__city")
            .order_by("fired_at", "pk")
        )
        if not events or not events[0].user.email:
            return 0
        message = alert_email_build(events)
        message.send()
        AlertEvent.objects.filter(pk__in=[e.pk for e in events]).update(emailed_at=timezone.now())
    logger.info("Alert e-mail with %d events sent to user %s", len(events), user_id)
    return len(events)


def alert_email_build(events: list[AlertEvent]) -> EmailMultiAlternatives:
    user = events[0].user
    items = [
        {
            "message": event.message,
            "city": event.alert.subscription.city.label,
            "url": settings.SITE_URL + reverse("city", args=[event.alert.subscription.city_id]),
        }
        for event in events
    ]
    subject = events[0].message
    if len(events) > 1:
        subject = f"{subject} (and {len(events) - 1} more)"
    context = {
        "items": items,
        "settings_url": settings.SITE_URL + reverse("settings") + "#alerts",
        "units": user.units,
    }
    message = EmailMultiAlternatives(
        subject=subject[:200],
        body=render_to_string("notifications/alert_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("notifications/alert_email.html", context), "text/html"
    )
    return message
