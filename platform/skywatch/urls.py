from django.contrib import admin
from django.urls import include, path, re_path

from skywatch import health
from skywatch.api.errors import api_not_found
from subscriptions.urls import api_urlpatterns as subscription_api

api_patterns = [
    *subscription_api,
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_patterns)),
    path("", include("subscriptions.urls")),
]
