from __future__ import annotations

import logging

from django.contrib import admin

from subscriptions.models import City, Observation, Subscription
from subscriptions.planning import refresh_status

logger = logging.getLogger(__name__)


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "admin1",
        "country",
        "latitude",
        "longitude",
        "last_refreshed_at",
        "stale",
    ]
    list_filter = ["stale", "country"]
    search_fields = ["name", "admin1", "country"]
    readonly_fields = ["latest", "last_refreshed_at", "stale", "last_error", "created_at"]

    def changelist_view(self, request, extra_context=None):
        """The list of cities, headed by the refresh pipeline's effective interval."""
        extra_context = dict(extra_context or {})
        try:
            extra_context["refresh"] = refresh_status()
        except Exception as exc:  # a broken provider setting must not hide the city list
            logger.warning("Could not read the refresh status", exc_info=True)
            extra_context["refresh_error"] = str(exc)
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "city", "created_at", "paused"]
    list_filter = ["paused"]
    list_select_related = ["user", "city"]
    search_fields = ["user__email", "city__name"]
    raw_id_fields = ["user", "city"]


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ["city", "observed_at", "temperature", "condition", "provider"]
    list_filter = ["provider"]
    list_select_related = ["city"]
    search_fields = ["city__name"]
    date_hierarchy = "observed_at"
    raw_id_fields = ["city"]
