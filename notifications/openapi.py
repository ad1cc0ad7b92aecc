"""The alert API's shapes, for the OpenAPI document (the views render plain dicts)."""

from __future__ import annotations

from rest_framework import serializers

from notifications.models import CHANNELS, METRICS, OPERATORS, SOURCES
from subscriptions.openapi import CitySerializer


class AlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subscription_id = serializers.IntegerField()
    city = CitySerializer()
    metric = serializers.ChoiceField(choices=METRICS)
    operator = serializers.ChoiceField(choices=OPERATORS)
    threshold = serializers.FloatField(help_text="In your units.")
    source = serializers.ChoiceField(choices=SOURCES)
    within_hours = serializers.IntegerField(allow_null=True, min_value=1, max_value=48)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=CHANNELS))
    enabled = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["ok", "firing"])
    last_fired_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AlertPatchSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=METRICS, required=False)
    operator = serializers.ChoiceField(choices=OPERATORS, required=False)
    threshold = serializers.FloatField(
        min_value=-1e300, max_value=1e300, required=False, help_text="In your units."
    )
    source = serializers.ChoiceField(choices=SOURCES, required=False)
    within_hours = serializers.IntegerField(
        allow_null=True, min_value=1, max_value=48, required=False
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=CHANNELS), min_length=1, required=False
    )
    enabled = serializers.BooleanField(required=False)


class AlertInSerializer(AlertPatchSerializer):
    subscription = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of one of your subscriptions."
    )
    metric = serializers.ChoiceField(choices=METRICS)
    operator = serializers.ChoiceField(choices=OPERATORS)
    threshold = serializers.FloatField(
        min_value=-1e300, max_value=1e300, help_text="In your units."
    )
    source = serializers.ChoiceField(choices=SOURCES)


class AlertEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    alert_id = serializers.IntegerField()
    city = CitySerializer()
    metric = serializers.ChoiceField(choices=METRICS)
    operator = serializers.ChoiceField(choices=OPERATORS)
    threshold = serializers.FloatField()
    value = serializers.FloatField()
    source = serializers.ChoiceField(choices=SOURCES)
    for_time = serializers.DateTimeField()
    fired_at = serializers.DateTimeField()
    message = serializers.CharField()


class AlertEventPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AlertEventSerializer(many=True)


class PushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(help_text="base64url, for PushManager.subscribe().")


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField()
    auth = serializers.CharField()


class PushSubscriptionInSerializer(serializers.Serializer):
    endpoint = serializers.URLField()
    keys = PushKeysSerializer()
    expirationTime = serializers.IntegerField(allow_null=True, required=False)


class PushSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
