"""The one error format of /api/: {"code", "message", "field"} for every 4xx and 5xx."""

from __future__ import annotations

import logging
import math

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from skywatch.errors import SkywatchError

logger = logging.getLogger("skywatch.api")

DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "invalid",
    exceptions.UnsupportedMediaType: "invalid",
    exceptions.NotAcceptable: "invalid",
}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"code": code, "message": message, "field": field}


def _first_validation_error(detail, prefix: str = "") -> tuple[str | None, str]:
    """The first field and message of a (possibly nested) DRF validation error."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key == "non_field_errors" else f"{prefix}{key}"
            field, message = _first_validation_error(value, f"{name}." if name else "")
            return (field if field is not None else name), message
    if isinstance(detail, list) and detail:
        return _first_validation_error(detail[0], prefix)
    return None, str(detail)


def api_exception_handler(exc, context) -> Response:
    """DRF's exception handler for every API view."""
    if isinstance(exc, SkywatchError):
        headers = {}
        if getattr(exc, "retry_after", None) is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return Response(
            error_body(exc.code, exc.message, exc.field), status=exc.status_code, headers=headers
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_validation_error(exc.detail)
        return Response(error_body("invalid", message, field), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), "invalid")
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response(error_body(code, str(message)), status=exc.status_code, headers=headers)
    logger.exception("Unexpected error in %s", context.get("view").__class__.__name__)
    return Response(
        error_body("server_error", "Something went wrong on our side; please try again."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the error format, not with an HTML page."""
    return JsonResponse(error_body("not_found", "There is no such API endpoint."), status=404)
