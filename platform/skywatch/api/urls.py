from csp.decorators import csp_update
from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from skywatch.api import views

# Swagger UI (drf-spectacular-sidecar, pinned) injects one fixed <style>: allowed by its hash only.
SWAGGER_UI_STYLE = {"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]}
swagger_ui = SpectacularSwaggerSplitView.as_view(url_name="api-schema")

# Every API path answers with and without a trailing slash, without redirecting.
api_urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterApi.as_view(), name="api-register"),
    re_path(r"^auth/login/?$", views.LoginApi.as_view(), name="api-login"),
    re_path(r"^auth/refresh/?$", views.RefreshApi.as_view(), name="api-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutApi.as_view(), name="api-logout"),
    re_path(r"^tokens/?$", views.TokenListApi.as_view(), name="api-tokens"),
    re_path(
        r"^tokens/(?P<token_id>[0-9]{1,18})/?$", views.TokenDetailApi.as_view(), name="api-token"
    ),
    re_path(r"^me/?$", views.AccountApi.as_view(), name="api-me"),
    re_path(r"^me/export/?$", views.MeExportApi.as_view(), name="api-me-export"),
    re_path(r"^me/share/?$", views.MeShareApi.as_view(), name="api-me-share"),
    re_path(
        r"^me/logout-everywhere/?$",
        views.MeLogoutEverywhereApi.as_view(),
        name="api-me-logout-everywhere",
    ),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline one.
    re_path(r"^docs/?$", csp_update(SWAGGER_UI_STYLE)(swagger_ui), name="api-docs"),
]
