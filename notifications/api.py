"""JSON endpoints of alerts, their events and Web Push; thin: parse, call, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.openapi import (
    AlertEventPageSerializer,
    AlertInSerializer,
    AlertPatchSerializer,
    AlertSerializer,
    PushKeySerializer,
    PushSubscriptionInSerializer,
    PushSubscriptionSerializer,
)
from notifications.rules import alert_as_dict
from notifications.webpush import vapid_public_key
from skywatch.api.schema import errors
from skywatch.errors import NotFound
from subscriptions.api import page_links, query_text
from subscriptions.openapi import PAGE, PER_PAGE
from subscriptions.selectors import page_of

ALERT_ID = OpenApiParameter("alert_id", int, OpenApiParameter.PATH)
PUSH_ID = OpenApiParameter("push_id", int, OpenApiParameter.PATH)


def _alert_shown(request: Request, alert_id: int) -> dict:
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    return alert_as_dict(alert, units=request.user.units)


class AlertListApi(APIView):
    @extend_schema(
        tags=["alerts"],
        summary="Your alert rules",
        responses={200: AlertSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.alert_list_as_dicts(user=request.user))

    @extend_schema(
        tags=["alerts"],
        summary="Set an alert rule on one of your cities",
        description="threshold is in your units; within_hours (1 to 48) only with source forecast.",
        request=AlertInSerializer,
        responses={201: AlertSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        alert = services.alert_create(user=request.user, body=request.data)
        return Response(_alert_shown(request, alert.pk), status=status.HTTP_201_CREATED)


class AlertDetailApi(APIView):
    @extend_schema(
        tags=["alerts"],
        summary="One of your alert rules",
        parameters=[ALERT_ID],
        responses={200: AlertSerializer, **errors(404)},
    )
    def get(self, request: Request, alert_id: int) -> Response:
        return Response(_alert_shown(request, alert_id))

    @extend_schema(
        tags=["alerts"],
        summary="Change an alert rule (it re-arms)",
        parameters=[ALERT_ID],
        request=AlertPatchSerializer,
        responses={200: AlertSerializer, **errors(400, 404)},
    )
    def patch(self, request: Request, alert_id: int) -> Response:
        services.alert_update(user=request.user, alert_id=alert_id, body=request.data)
        return Response(_alert_shown(request, alert_id))

    @extend_schema(
        tags=["alerts"],
        summary="Delete an alert rule",
        parameters=[ALERT_ID],
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, alert_id: int) -> Response:
        services.alert_delete(user=request.user, alert_id=alert_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertEventsApi(APIView):
    @extend_schema(
        tags=["alerts"],
        summary="What your alerts said, newest first",
        parameters=[PER_PAGE, PAGE],
        responses={200: AlertEventPageSerializer, **errors(400, 404)},
    )
    def get(self, request: Request) -> Response:
        count, rows, number, more = page_of(
            selectors.alert_events_for(user=request.user),
            per_page=query_text(request, "per_page"),
            page=query_text(request, "page"),
            noun="alert events",
        )
        units = request.user.units
        return Response(
            {
                "count": count,
                **page_links(request, number=number, more=more),
                "results": [selectors.alert_event_as_dict(row, units=units) for row in rows],
            }
        )


class PushKeyApi(APIView):
    @extend_schema(
        tags=["push"],
        summary="The VAPID application server key browsers subscribe with",
        responses={200: PushKeySerializer, **errors(404)},
    )
    def get(self, request: Request) -> Response:
        key = vapid_public_key()
        if key is None:
            raise NotFound("Web Push is not configured on this server.")
        return Response({"public_key": key})


class PushSubscriptionListApi(APIView):
    @extend_schema(
        tags=["push"],
        summary="Receive alerts by Web Push in this browser",
        description="The body is the browser's PushSubscription.toJSON(); the same endpoint "
        "again answers 200.",
        request=PushSubscriptionInSerializer,
        responses={201: PushSubscriptionSerializer, 200: PushSubscriptionSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        row, created = services.push_subscription_save(user=request.user, body=request.data)
        return Response(
            {"id": row.pk}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class PushSubscriptionDetailApi(APIView):
    @extend_schema(
        tags=["push"],
        summary="Stop Web Push to that browser",
        parameters=[PUSH_ID],
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, push_id: int) -> Response:
        services.push_subscription_delete(user=request.user, push_id=push_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
