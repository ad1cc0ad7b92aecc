"""OpenAPI: the error schema, the auth schemes and hooks that keep the document honest."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# Text patterns, so that what the schema allows is exactly what the API accepts: no NUL
# anywhere (PostgreSQL cannot store it), and surrounding whitespace trimmed as Python's
# str.strip() does. Written with explicit classes, not \s, which differs between regex dialects.
WHITESPACE = r"\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\x00]+$"
NON_BLANK = rf"^[^\x00]*[^{WHITESPACE}\x00][^\x00]*$"
# Non-blank and at most 100 characters once trimmed.
TEXT_100 = (
    rf"^[{WHITESPACE}]*[^{WHITESPACE}\x00](?:[^\x00]{{0,98}}[^{WHITESPACE}\x00])?[{WHITESPACE}]*$"
)

ERROR_CODES = [
    "invalid",
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "city_not_found",
    "already_subscribed",
    "quota_exceeded",
    "throttled",
    "locked_out",
    "provider_unavailable",
    "server_error",
]


class ErrorSerializer(serializers.Serializer):
    """The one error body of /api/."""

    code = serializers.ChoiceField(choices=ERROR_CODES)
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, `city_not_found`); `field` names the input at fault.",
    401: "`not_authenticated` (no credentials) or `authentication_failed` (bad or expired).",
    403: "`permission_denied` or `quota_exceeded`.",
    404: "`not_found` (or `city_not_found` for a weather search).",
    409: "`already_subscribed`.",
    429: "`throttled` or `locked_out`; see Retry-After.",
    503: "`provider_unavailable`.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for @extend_schema(responses=...)."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS.get(status, ""))
        for status in statuses
    }


class BearerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "skywatch.api.authentication.BearerJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 - the scheme name
            bearer_format="JWT",
        )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "skywatch.api.authentication.ApiTokenAuthentication"
    name = "apiTokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Token"}


def api_paths_only(endpoints, **kwargs):
    """Document /api/ endpoints, without the schema and docs views, paths without trailing slash."""
    kept = []
    for path, path_regex, method, callback in endpoints:
        if not path.startswith("/api/") or path.startswith(("/api/schema", "/api/docs")):
            continue
        kept.append((path.rstrip("/"), path_regex, method, callback))
    return kept


def add_common_error_responses(result, generator, request, public):
    """Every operation may be throttled (429); every signed-in one may be refused (401)."""
    error_ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [])
            needs_auth = bool(security) and {} not in security
            wanted = {"429": ERROR_DESCRIPTIONS[429]}
            if needs_auth:
                wanted["401"] = ERROR_DESCRIPTIONS[401]
            for status, description in wanted.items():
                responses.setdefault(
                    status,
                    {
                        "content": {"application/json": {"schema": error_ref}},
                        "description": description,
                    },
                )
            if "429" in responses:
                responses["429"].setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
    return result
