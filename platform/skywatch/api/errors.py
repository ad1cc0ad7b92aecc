"""The one error format of /api/: {"code", "message", "field"} for every 4xx and 5xx."""

from __future__ import annotations

import logging
import math

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
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


TOO_BIG_MESSAGE = "The request body is over the size limit (2.5 MiB)."

# A 429 always says when to come back; this is the answer when the cause does not know.
DEFAULT_RETRY_AFTER = 60


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


def error_response(code: str, message: str, *, status: int) -> JsonResponse:
    """The error format outside DRF views, serialised as compactly as DRF does it."""
    return JsonResponse(
        error_body(code, message), status=status, json_dumps_params={"separators": (",", ":")}
    )


def _detail_message(detail) -> str:
    """A DRF detail as one sentence; simplejwt nests it as {"detail": ..., "messages": [...]}."""
    if isinstance(detail, dict):
        detail = detail.get("detail", next(iter(detail.values()), ""))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    return str(detail)


def api_exception_handler(exc, context) -> Response:
    """DRF's exception handler for every API view."""
    if isinstance(exc, SkywatchError):
        headers = {}
        if exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
            retry_after = getattr(exc, "retry_after", None) or DEFAULT_RETRY_AFTER
            headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return Response(
            error_body(exc.code, exc.message, exc.field), status=exc.status_code, headers=headers
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("invalid", TOO_BIG_MESSAGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
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
        if isinstance(exc, exceptions.Throttled):
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait or DEFAULT_RETRY_AFTER)))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        return Response(
            error_body(code, _detail_message(exc.detail)), status=exc.status_code, headers=headers
        )
    logger.exception("Unexpected error in %s", context.get("view").__class__.__name__)
    return Response(
        error_body("server_error", "Something went wrong on our side; please try again."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the error format, not with an HTML page."""
    return error_response("not_found", "There is no such API endpoint.", status=404)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request) and isinstance(exception, RequestDataTooBig):
        return error_response("invalid", TOO_BIG_MESSAGE, status=413)
    if _is_api(request):
        return error_response("invalid", "The request could not be understood.", status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return error_response("permission_denied", "You may not do this.", status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return error_response(
            "server_error", "Something went wrong on our side; please try again.", status=500
        )
    return defaults.server_error(request)
