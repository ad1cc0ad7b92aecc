from django.contrib import admin
from django.urls import include, path, re_path

from notifications.urls import api_urlpatterns as alert_api
from skywatch import health, pwa
from skywatch.api import errors as api_errors
from skywatch.api.errors import api_not_found
from skywatch.api.urls import api_urlpatterns as account_api
from subscriptions.urls import api_urlpatterns as subscription_api

api_patterns = [
    *account_api,
    *subscription_api,
    *alert_api,
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_patterns)),
    path("", include("subscriptions.urls")),
]

# Failures outside DRF views (bad Host, CSRF on a plain view, crashes in middleware) keep
# the API's error format under /api/ and Django's pages elsewhere.
handler400 = api_errors.bad_request
handler403 = api_errors.permission_denied
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error
