"""Request and response shapes of the account endpoints (the OpenAPI document reads these)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from skywatch.api.schema import NO_NUL, NON_BLANK, TEXT_100


class StrictCharField(serializers.CharField):
    """Text only: a number or a list is refused rather than turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": TEXT_100})
class ShortTextField(StrictCharField):
    """Non-blank text, trimmed; its length (100 at most) is checked by the service."""


@extend_schema_field({"type": "string", "pattern": NON_BLANK})
class NonBlankTextField(StrictCharField):
    """Any non-blank text, trimmed."""


@extend_schema_field({"type": "string", "format": "email", "maxLength": 254})
class NewEmailField(StrictCharField):
    """An e-mail address for a new account; the service validates it."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)


@extend_schema_field({"type": "string", "pattern": NO_NUL, "maxLength": 4096})
class SecretField(StrictCharField):
    """A password or a token, taken exactly as sent."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, max_length=4096, **kwargs)


class RegisterSerializer(serializers.Serializer):
    email = NewEmailField()
    password = SecretField()


class LoginSerializer(serializers.Serializer):
    email = NonBlankTextField()
    password = SecretField()


class RefreshSerializer(serializers.Serializer):
    refresh = SecretField()


class AccessSerializer(serializers.Serializer):
    access = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    city_limit = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    cities = serializers.IntegerField()


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    plan = PlanSerializer()
    usage = UsageSerializer()
    units = serializers.ChoiceField(choices=["metric", "imperial"])
    share_url = serializers.URLField()


class SessionSerializer(serializers.Serializer):
    user = UserSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class UnitsSerializer(serializers.Serializer):
    units = serializers.ChoiceField(
        choices=["metric", "imperial"],
        required=False,
        error_messages={"invalid_choice": "Units are metric or imperial."},
    )


class TokenNameSerializer(serializers.Serializer):
    name = ShortTextField()


class NewTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="Shown this once; only its hash is stored.")
    created_at = serializers.DateTimeField()


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class AccountDeleteSerializer(serializers.Serializer):
    password = SecretField(
        required=False, help_text="The account's password (accounts that have one)."
    )
    email = SecretField(
        required=False,
        help_text="The account's e-mail address: the confirmation of accounts without a "
        "password (social login).",
    )


class ExportTokenSerializer(serializers.Serializer):
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ExportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    units = serializers.ChoiceField(choices=["metric", "imperial"])
    plan = PlanSerializer()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class ExportSerializer(serializers.Serializer):
    exported_at = serializers.DateTimeField()
    account = ExportAccountSerializer()
    subscriptions = serializers.ListField(child=serializers.DictField())
    alerts = serializers.ListField(child=serializers.DictField())
    alert_events = serializers.ListField(child=serializers.DictField())
    search_history = serializers.ListField(child=serializers.DictField())
    api_tokens = ExportTokenSerializer(many=True)
