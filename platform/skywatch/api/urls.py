from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from skywatch.api import views

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
    re_path(r"^me/?$", views.MeApi.as_view(), name="api-me"),
    re_path(r"^me/share/?$", views.MeShareApi.as_view(), name="api-me-share"),
    re_path(
        r"^me/logout-everywhere/?$",
        views.MeLogoutEverywhereApi.as_view(),
        name="api-me-logout-everywhere",
    ),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
