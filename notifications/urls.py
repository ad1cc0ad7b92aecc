from django.urls import re_path

from notifications import api

# Every API path answers with and without a trailing slash, without redirecting.
api_urlpatterns = [
    re_path(r"^alerts/?$", api.AlertListApi.as_view(), name="api-alerts"),
    re_path(r"^alerts/events/?$", api.AlertEventsApi.as_view(), name="api-alert-events"),
    re_path(
        r"^alerts/(?P<alert_id>[0-9]{1,18})/?$", api.AlertDetailApi.as_view(), name="api-alert"
    ),
    re_path(r"^push/key/?$", api.PushKeyApi.as_view(), name="api-push-key"),
    re_path(
        r"^push/subscriptions/?$",
        api.PushSubscriptionListApi.as_view(),
        name="api-push-subscriptions",
    ),
    re_path(
        r"^push/subscriptions/(?P<push_id>[0-9]{1,18})/?$",
        api.PushSubscriptionDetailApi.as_view(),
        name="api-push-subscription",
    ),
]
