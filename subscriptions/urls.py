from django.urls import path, re_path

from subscriptions import api, views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settings/", views.settings_page, name="settings"),
    # Ids longer than a bigint can hold are simply not found.
    re_path(r"^cities/(?P<city_id>[0-9]{1,18})/$", views.city, name="city"),
    # Before the token route: "rotate" is never a token (tokens are 43 characters).
    path("share/rotate/", views.share_rotate, name="share-rotate"),
    path("share/<str:share_token>/", views.share, name="share"),
    re_path(
        r"^share/(?P<share_token>[^/]+)/cities/(?P<city_id>[0-9]{1,18})/$",
        views.share_city,
        name="share-city",
    ),
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
    re_path(
        r"^subscriptions/(?P<subscription_id>[0-9]{1,18})/observations/?$",
        api.SubscriptionObservationsApi.as_view(),
        name="api-subscription-observations",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[0-9]{1,18})/forecast/?$",
        api.SubscriptionForecastApi.as_view(),
        name="api-subscription-forecast",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[0-9]{1,18})/refresh/?$",
        api.SubscriptionRefreshApi.as_view(),
        name="api-subscription-refresh",
    ),
    re_path(r"^weather/?$", api.WeatherApi.as_view(), name="api-weather"),
    re_path(r"^history/?$", api.HistoryApi.as_view(), name="api-history"),
]
