"""JSON endpoints: cities, subscriptions, readings, forecasts, weather search; thin: parse,
call, render. Their shapes for the OpenAPI document are in openapi.py."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from skywatch.api.schema import errors
from skywatch.errors import InvalidInput, NotFound
from subscriptions import on_demand, selectors, services
from subscriptions.forecasts import forecast_as_dict
from subscriptions.openapi import (
    CITY_NAME,
    DAY,
    PAGE,
    PER_PAGE,
    SUBSCRIPTION_ID,
    FollowSerializer,
    ForecastSerializer,
    HistoryPageSerializer,
    ObservationsSerializer,
    PlaceSerializer,
    ReadingSerializer,
    SubscriptionSerializer,
    WeatherSerializer,
)
from subscriptions.planning import forecasts_enabled
from subscriptions.ranges import DAY_PATTERN, history_range_parse
from subscriptions.readings import city_as_dict, reading_as_dict

# Observations answer at most this many readings (a month at the default 5-minute refresh).
MAX_OBSERVATIONS = 10_000


def no_nul(value: str | None, name: str) -> str | None:
    # PostgreSQL cannot store NUL, and no name or date contains one.
    if value is not None and "\x00" in value:
        raise InvalidInput("Text may not contain NUL characters.", field=name)
    return value


def text_field(body, name: str) -> str | None:
    value = body.get(name) if isinstance(body, dict) else None
    if value is not None and not isinstance(value, str):
        raise InvalidInput("Expected text.", field=name)
    return no_nul(value, name)


def query_text(request: Request, name: str) -> str | None:
    """One query parameter; repeating it is refused rather than silently picking one."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"Give {name} once.", field=name)
    return no_nul(values[0], name) if values else None


def page_links(request: Request, *, number: int, more: bool) -> dict:
    """`next` and `previous` of a page: this URL with another `page` (none for the first)."""
    url = request.build_absolute_uri()
    previous = None
    if number == 2:
        previous = remove_query_param(url, "page")
    elif number > 2:
        previous = replace_query_param(url, "page", number - 1)
    return {
        "next": replace_query_param(url, "page", number + 1) if more else None,
        "previous": previous,
    }


def query_day(request: Request, name: str) -> str | None:
    """A YYYY-MM-DD query parameter, exactly; absent is None (the calendar check comes later)."""
    value = query_text(request, name)
    if value is not None and not DAY_PATTERN.fullmatch(value):
        raise InvalidInput(f"The {name} date must be written YYYY-MM-DD.", field=name)
    return value


# --- Views --------------------------------------------------------------------------------


class CitySearchApi(APIView):
    @extend_schema(
        tags=["cities"],
        summary="Up to 10 places matching a name",
        parameters=[OpenApiParameter("q", CITY_NAME, required=True, description="A city name.")],
        responses={200: PlaceSerializer(many=True), **errors(400, 503)},
    )
    def get(self, request: Request) -> Response:
        candidates = services.city_search(query=query_text(request, "q") or "")
        return Response(
            [
                {
                    "key": place.key,
                    "name": place.name,
                    "country": place.country,
                    "admin1": place.admin1,
                    "latitude": place.latitude,
                    "longitude": place.longitude,
                }
                for place in candidates
            ]
        )


class SubscriptionListApi(APIView):
    @extend_schema(
        tags=["subscriptions"],
        summary="The cities you follow, with their latest reading",
        responses={200: SubscriptionSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.subscription_list_as_dicts(user=request.user))

    @extend_schema(
        tags=["subscriptions"],
        summary="Follow a city by name or by a key from /api/cities/search",
        request=FollowSerializer,
        responses={201: SubscriptionSerializer, **errors(400, 403, 409, 503)},
    )
    def post(self, request: Request) -> Response:
        subscription = services.subscription_create(
            user=request.user,
            query=text_field(request.data, "city"),
            key=text_field(request.data, "key"),
        )
        subscription = selectors.subscription_get(
            user=request.user, subscription_id=subscription.pk
        )
        return Response(
            selectors.subscription_as_dict(subscription, units=request.user.units),
            status=status.HTTP_201_CREATED,
        )


class SubscriptionDetailApi(APIView):
    @extend_schema(
        tags=["subscriptions"],
        summary="One of your subscriptions",
        parameters=[SUBSCRIPTION_ID],
        responses={200: SubscriptionSerializer, **errors(404)},
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get(
            user=request.user, subscription_id=subscription_id
        )
        return Response(selectors.subscription_as_dict(subscription, units=request.user.units))

    @extend_schema(
        tags=["subscriptions"],
        summary="Unfollow a city",
        parameters=[SUBSCRIPTION_ID],
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.subscription_delete(user=request.user, subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionObservationsApi(APIView):
    @extend_schema(
        tags=["subscriptions"],
        summary="Stored readings of a followed city between two days",
        description="Both days are inclusive UTC days and optional; oldest first. Without "
        f"per_page, at most {MAX_OBSERVATIONS} readings: the newest ones of the range when it "
        "holds more; with per_page (and page) every reading, a page at a time, with count, next "
        "and previous.",
        parameters=[
            SUBSCRIPTION_ID,
            OpenApiParameter("start", DAY, description="YYYY-MM-DD, inclusive (UTC)."),
            OpenApiParameter("end", DAY, description="YYYY-MM-DD, inclusive (UTC)."),
            PER_PAGE,
            PAGE,
        ],
        responses={200: ObservationsSerializer, **errors(400, 404)},
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get(
            user=request.user, subscription_id=subscription_id
        )
        days = history_range_parse(
            {"start": query_day(request, "start"), "end": query_day(request, "end")}
        )
        lower, upper = days.bounds(now=timezone.now())
        city = subscription.city
        per_page, page = query_text(request, "per_page"), query_text(request, "page")
        paging: dict = {}
        if per_page is None and page is None:
            rows = selectors.observations_between(
                city=city, lower=lower, upper=upper, limit=MAX_OBSERVATIONS
            )
        else:
            count, rows, number, more = selectors.page_of(
                selectors.observations_in(city=city, lower=lower, upper=upper),
                per_page=per_page,
                page=page,
                noun="readings",
            )
            paging = {"count": count, **page_links(request, number=number, more=more)}
        units = request.user.units
        return Response(
            {
                **paging,
                "city": city_as_dict(city),
                "observations": [
                    reading_as_dict(row, units=units, stale=city.stale and row.pk == city.latest_id)
                    for row in rows
                ],
            }
        )


class SubscriptionForecastApi(APIView):
    @extend_schema(
        tags=["subscriptions"],
        summary="The forecast of a followed city: 48 hours and 7 days",
        description="Hours from the current hour (UTC), days from the city's local today, in "
        "your units. With no forecast stored yet it is fetched now under the provider budget.",
        parameters=[SUBSCRIPTION_ID],
        responses={200: ForecastSerializer, **errors(404, 429, 503)},
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get(
            user=request.user, subscription_id=subscription_id
        )
        city = subscription.city
        if not forecasts_enabled() and selectors.city_forecast(city) is None:
            raise NotFound("Forecasts are turned off on this server (FORECAST_REFRESH_SECONDS=0).")
        forecast = on_demand.forecast_for(user=request.user, city=city)
        shown = forecast_as_dict(forecast, units=request.user.units, now=timezone.now())
        return Response({"city": city_as_dict(city), **shown})


class SubscriptionRefreshApi(APIView):
    @extend_schema(
        tags=["subscriptions"],
        summary="Read a followed city now (under the shared provider budget)",
        parameters=[SUBSCRIPTION_ID],
        request=None,
        responses={200: ReadingSerializer, **errors(403, 404, 429, 503)},
    )
    def post(self, request: Request, subscription_id: int) -> Response:
        observation = on_demand.subscription_refresh(
            user=request.user, subscription_id=subscription_id
        )
        return Response(reading_as_dict(observation, units=request.user.units))


class WeatherApi(APIView):
    @extend_schema(
        tags=["weather"],
        summary="Current weather for a city name, recorded in your history",
        description="A reading fetched from the provider less than 10 minutes ago is reused.",
        parameters=[
            OpenApiParameter(
                "city",
                CITY_NAME,
                required=True,
                description="A city name (at most 100 characters).",
            )
        ],
        responses={200: WeatherSerializer, **errors(400, 404, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        query, city, observation = on_demand.weather_search(
            user=request.user, query=query_text(request, "city")
        )
        return Response(
            {
                "query": query,
                "city": city_as_dict(city, brief=True),
                "current": reading_as_dict(observation, units=request.user.units, stale=city.stale),
            }
        )


class HistoryApi(APIView):
    @extend_schema(
        tags=["weather"],
        summary="Your weather searches, newest first",
        parameters=[PER_PAGE, PAGE],
        responses={200: HistoryPageSerializer, **errors(400, 404)},
    )
    def get(self, request: Request) -> Response:
        count, rows, number, more = selectors.page_of(
            selectors.search_history_for(user=request.user),
            per_page=query_text(request, "per_page"),
            page=query_text(request, "page"),
            noun="searches",
        )
        return Response(
            {
                "count": count,
                **page_links(request, number=number, more=more),
                "results": [selectors.search_history_as_dict(row) for row in rows],
            }
        )

    @extend_schema(tags=["weather"], summary="Clear your search history", responses={204: None})
    def delete(self, request: Request) -> Response:
        services.search_history_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
