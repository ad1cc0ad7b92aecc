"""Alerts, their events and Web Push browsers, for staff."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import Alert, AlertEvent, PushSubscription


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["user", "subscription", "metric", "operator", "threshold", "source", "state"]
    list_filter = ["state", "enabled", "source", "metric"]
    list_select_related = ["user", "subscription__city"]
    raw_id_fields = ["user", "subscription"]
    search_fields = ["user__email"]


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ["fired_at", "user", "message", "emailed_at", "pushed_at"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "alert"]
    search_fields = ["user__email", "message"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "endpoint", "created_at"]
    raw_id_fields = ["user"]
