from django.urls import path, re_path

from subscriptions import api, views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
]

# Every API path answers with and without a trailing slash, without redirecting.
api_urlpatterns = [
    re_path(r"^cities/search/?$", api.CitySearchApi.as_view(), name="api-city-search"),
    re_path(r"^subscriptions/?$", api.SubscriptionListApi.as_view(), name="api-subscriptions"),
    re_path(
        r"^subscriptions/(?P<subscription_id>[0-9]{1,18})/?$",
        api.SubscriptionDetailApi.as_view(),
        name="api-subscription",
    ),
]
