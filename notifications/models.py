"""Alert rules on followed cities, the events they fire, and the browsers Web Push reaches."""

from __future__ import annotations

from django.conf import settings
from django.db import models

METRICS = (
    "temperature",
    "feels_like",
    "wind_speed",
    "wind_gusts",
    "precipitation_probability",
    "precipitation",
    "humidity",
    "uv_index",
)
OPERATORS = ("above", "below")
SOURCES = ("now", "forecast")
CHANNELS = ("web", "email", "push")
OK, FIRING = "ok", "firing"


def default_channels() -> list[str]:
    return ["web", "email"]


class Alert(models.Model):
    """One rule: `metric` `operator` `threshold` (metric units) now or within the next hours.

    `firings` counts the times it fired; an event is unique per (alert, firing), so a retried,
    duplicated or concurrent batch cannot store (nor send) one firing twice.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.CASCADE, related_name="alerts"
    )
    metric = models.CharField(max_length=32, choices=[(m, m) for m in METRICS])
    operator = models.CharField(max_length=8, choices=[(o, o) for o in OPERATORS])
    threshold = models.FloatField(help_text="In metric units (°C, m/s, mm, %), as evaluated.")
    typed_threshold = models.FloatField(help_text="As the person typed it, in typed_units.")
    typed_units = models.CharField(max_length=16, default="metric")
    source = models.CharField(max_length=8, choices=[(s, s) for s in SOURCES], default="now")
    within_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    channels = models.JSONField(default=default_channels)
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=8, default=OK, choices=[(OK, OK), (FIRING, FIRING)])
    firings = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["subscription", "enabled"], name="alert_subscription")]

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.threshold} ({self.source})"


class AlertEvent(models.Model):
    """One firing of an alert, what it said, and which channels it went (or goes) out on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_events"
    )
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    firing = models.PositiveIntegerField()
    metric = models.CharField(max_length=32)
    operator = models.CharField(max_length=8)
    threshold = models.FloatField(help_text="Metric units, as the alert had it.")
    typed_threshold = models.FloatField()
    typed_units = models.CharField(max_length=16, default="metric")
    value = models.FloatField(help_text="Metric units.")
    source = models.CharField(max_length=8)
    for_time = models.DateTimeField()
    fired_at = models.DateTimeField()
    message = models.CharField(max_length=300)
    send_web = models.BooleanField(default=False)
    send_email = models.BooleanField(default=False)
    send_push = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "firing"], name="alert_event_once_per_firing"),
        ]
        indexes = [models.Index(fields=["user", "-fired_at"], name="alert_event_newest")]

    def __str__(self) -> str:
        return self.message


class PushSubscription(models.Model):
    """A browser that accepted Web Push for an account (its PushSubscription.toJSON())."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=128)
    auth = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.endpoint[:60]}"

    def as_info(self) -> dict:
        """What pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
