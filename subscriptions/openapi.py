"""The API's shapes, for the OpenAPI document (the views render plain dicts)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from skywatch.api.schema import TEXT_100
from skywatch.api.serializers import NonBlankTextField, ShortTextField


class ReadingSerializer(serializers.Serializer):
    observed_at = serializers.DateTimeField()
    temperature = serializers.FloatField(help_text="°C, or °F in imperial units")
    feels_like = serializers.FloatField()
    humidity = serializers.IntegerField(help_text="%")
    clouds = serializers.IntegerField(help_text="%")
    wind_speed = serializers.FloatField(help_text="m/s, or mph in imperial units")
    wind_direction = serializers.IntegerField(help_text="degrees")
    precipitation_probability = serializers.IntegerField(allow_null=True, help_text="%")
    pressure = serializers.IntegerField(help_text="hPa")
    condition = serializers.CharField()
    icon = serializers.CharField()
    units = serializers.ChoiceField(choices=["metric", "imperial"])
    provider = serializers.CharField()
    stale = serializers.BooleanField(help_text="The last refresh of this city failed.")


class CitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()
    admin1 = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    timezone = serializers.CharField(allow_blank=True, help_text='IANA name, "" when unknown.')


class PlaceSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='Follow this exact place with {"key": ...}.')
    name = serializers.CharField()
    country = serializers.CharField()
    admin1 = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class ForecastHourSerializer(serializers.Serializer):
    time = serializers.DateTimeField(help_text="The start of the hour (or 3-hour step), UTC.")
    temperature = serializers.FloatField(allow_null=True, help_text="°C, or °F in imperial units")
    feels_like = serializers.FloatField(allow_null=True)
    precipitation_probability = serializers.IntegerField(allow_null=True, help_text="%")
    precipitation = serializers.FloatField(
        allow_null=True, help_text="mm over the step, or inches in imperial units"
    )
    wind_speed = serializers.FloatField(allow_null=True, help_text="m/s, or mph")
    wind_gusts = serializers.FloatField(allow_null=True, help_text="m/s, or mph")
    clouds = serializers.IntegerField(allow_null=True, help_text="%")
    uv_index = serializers.FloatField(allow_null=True)
    condition = serializers.CharField()
    icon = serializers.CharField()


class ForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The city's local date.")
    temperature_max = serializers.FloatField(allow_null=True)
    temperature_min = serializers.FloatField(allow_null=True)
    precipitation_probability_max = serializers.IntegerField(allow_null=True)
    precipitation_sum = serializers.FloatField(allow_null=True, help_text="mm, or inches")
    wind_speed_max = serializers.FloatField(allow_null=True)
    uv_index_max = serializers.FloatField(allow_null=True)
    sunrise = serializers.DateTimeField(allow_null=True, help_text="UTC")
    sunset = serializers.DateTimeField(allow_null=True, help_text="UTC")
    condition = serializers.CharField()
    icon = serializers.CharField()


class ForecastSerializer(serializers.Serializer):
    city = CitySerializer()
    issued_at = serializers.DateTimeField()
    units = serializers.ChoiceField(choices=["metric", "imperial"])
    hourly = ForecastHourSerializer(many=True, help_text="From the current hour, 48 hours.")
    daily = ForecastDaySerializer(many=True, help_text="From today (local), 7 days.")


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    city = CitySerializer()
    created_at = serializers.DateTimeField()
    paused = serializers.BooleanField()
    latest = ReadingSerializer(allow_null=True)


class FollowSerializer(serializers.Serializer):
    city = ShortTextField(required=False, help_text="A city name.")
    key = NonBlankTextField(required=False, help_text="A key from /api/cities/search.")


WeatherSerializer = inline_serializer(
    "Weather",
    {
        "query": serializers.CharField(),
        "city": inline_serializer(
            "WeatherCity",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "country": serializers.CharField(),
                "latitude": serializers.FloatField(),
                "longitude": serializers.FloatField(),
            },
        ),
        "current": ReadingSerializer(),
    },
)

HistoryPageSerializer = inline_serializer(
    "HistoryPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": inline_serializer(
            "Search",
            {
                "id": serializers.IntegerField(),
                "city_name": serializers.CharField(),
                "timestamp": serializers.DateTimeField(),
            },
            many=True,
        ),
    },
)

ObservationsSerializer = inline_serializer(
    "Observations",
    {
        "count": serializers.IntegerField(required=False, help_text="With per_page only."),
        "next": serializers.URLField(allow_null=True, required=False),
        "previous": serializers.URLField(allow_null=True, required=False),
        "city": CitySerializer(),
        "observations": ReadingSerializer(many=True),
    },
)
PER_PAGE = OpenApiParameter("per_page", str, enum=["10", "30", "all"], description="Default 10.")
PAGE = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 1, "maximum": 10**9},
    description="From 1; past the last page: 404.",
)

SUBSCRIPTION_ID = OpenApiParameter("subscription_id", int, OpenApiParameter.PATH)
CITY_NAME = {"type": "string", "pattern": TEXT_100}
DAY = {"type": "string", "format": "date"}
