"""JSON endpoints for cities and subscriptions; thin: parse, call a service, render."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from skywatch.errors import InvalidInput, NotFound
from subscriptions import selectors, services


def text_field(body, name: str) -> str | None:
    value = body.get(name) if isinstance(body, dict) else None
    if value is not None and not isinstance(value, str):
        raise InvalidInput("Expected text.", field=name)
    return value


class CitySearchApi(APIView):
    def get(self, request: Request) -> Response:
        candidates = services.city_search(query=request.query_params.get("q", ""))
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
    def get(self, request: Request) -> Response:
        return Response(selectors.subscription_list_as_dicts(user=request.user))

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
    def get(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_get(
            user=request.user, subscription_id=subscription_id
        )
        if subscription is None:
            raise NotFound("No such subscription.")
        return Response(selectors.subscription_as_dict(subscription, units=request.user.units))

    def delete(self, request: Request, subscription_id: int) -> Response:
        services.subscription_delete(user=request.user, subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
