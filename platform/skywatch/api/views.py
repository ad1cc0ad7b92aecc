"""Account endpoints: register, login, refresh, logout, personal tokens and `me`; thin views."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from skywatch.accounts import selectors, services
from skywatch.api import serializers as s
from skywatch.api.schema import errors
from skywatch.api.throttles import AuthRateThrottle


def user_body(request: Request, user) -> dict:
    share_url = request.build_absolute_uri(selectors.share_path(user))
    return selectors.user_as_dict(user, share_url=share_url)


def valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AnonymousApi(APIView):
    """Auth endpoints: no credentials needed (a stale header is ignored), throttled per address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]


class RegisterApi(AnonymousApi):
    """One password, checked by the password validators; the answer logs the new account in."""

    @extend_schema(
        tags=["auth"],
        summary="Create an account and log in",
        request=s.RegisterSerializer,
        responses={201: s.SessionSerializer, **errors(400)},
    )
    def post(self, request: Request) -> Response:
        data = valid(s.RegisterSerializer, request)
        user = services.user_register(email=data["email"], password=data["password"])
        body = {"user": user_body(request, user), **services.jwt_pair(user=user)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginApi(AnonymousApi):
    """E-mail and password for a JWT pair; failures count towards a lockout."""

    @extend_schema(
        tags=["auth"],
        summary="Log in with e-mail and password",
        description="Five failures for one account from one address lock that pair out for "
        "15 minutes (429 `locked_out`).",
        request=s.LoginSerializer,
        responses={200: s.SessionSerializer, **errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = valid(s.LoginSerializer, request)
        # axes reads and flags the Django request, not DRF's wrapper.
        user = services.user_login(
            request=request._request, email=data["email"], password=data["password"]
        )
        return Response({"user": user_body(request, user), **services.jwt_pair(user=user)})


class RefreshApi(AnonymousApi):
    """A refresh token for a new access token; the refresh token itself is unchanged."""

    @extend_schema(
        tags=["auth"],
        summary="A new access token (30 minutes) from a refresh token (7 days)",
        request=s.RefreshSerializer,
        responses={200: s.AccessSerializer, **errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = valid(s.RefreshSerializer, request)
        return Response({"access": services.jwt_refresh(refresh=data["refresh"])})


class LogoutApi(AnonymousApi):
    """The refresh token is blacklisted; access tokens already issued expire on their own."""

    @extend_schema(
        tags=["auth"],
        summary="Revoke a refresh token",
        request=s.RefreshSerializer,
        responses={204: None, **errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = valid(s.RefreshSerializer, request)
        services.jwt_revoke(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListApi(APIView):
    """Personal tokens for scripts: shown once at creation, stored as a SHA-256 hash."""

    @extend_schema(
        tags=["tokens"],
        summary="Your personal API tokens, without secrets",
        responses={200: s.TokenSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        tokens = selectors.api_tokens_for(user=request.user)
        return Response([selectors.api_token_as_dict(token) for token in tokens])

    @extend_schema(
        tags=["tokens"],
        summary="Create a personal API token (sent as X-API-Token)",
        request=s.TokenNameSerializer,
        responses={201: s.NewTokenSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        data = valid(s.TokenNameSerializer, request)
        token, raw = services.api_token_create(user=request.user, name=data["name"])
        listed = selectors.api_token_as_dict(token)
        body = {
            "id": token.pk,
            "name": token.name,
            "token": raw,
            "created_at": listed["created_at"],
        }
        return Response(body, status=status.HTTP_201_CREATED)


TOKEN_ID = OpenApiParameter("token_id", int, OpenApiParameter.PATH)


class TokenDetailApi(APIView):
    """A revoked token stops working at once."""

    @extend_schema(
        tags=["tokens"],
        summary="Revoke a personal API token",
        parameters=[TOKEN_ID],
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        services.api_token_revoke(user=request.user, token_id=int(token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """The caller's account: plan, usage, units and share link."""

    @extend_schema(tags=["me"], summary="Your account", responses={200: s.UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(user_body(request, request.user))

    @extend_schema(
        tags=["me"],
        summary="Change the units readings are shown in",
        request=s.UnitsSerializer,
        responses={200: s.UserSerializer, **errors(400)},
    )
    def patch(self, request: Request) -> Response:
        data = valid(s.UnitsSerializer, request)
        if "units" in data:
            services.user_set_units(user=request.user, units=data["units"])
        return Response(user_body(request, request.user))


class MeShareApi(APIView):
    """Rotate the share token: the old share link answers 404 from now on."""

    @extend_schema(
        tags=["me"],
        summary="A new share link; the old one stops working",
        request=None,
        responses={200: s.UserSerializer},
    )
    def post(self, request: Request) -> Response:
        services.share_token_rotate(user=request.user)
        return Response(user_body(request, request.user))


class AccountApi(MeApi):
    """`/api/me`: read, change the units (every open page follows), delete the account."""

    @extend_schema(
        tags=["me"],
        summary="Change the units readings are shown in",
        description="Every open page of the account receives a fresh `snapshot` in the new "
        "units over the websocket.",
        request=s.UnitsSerializer,
        responses={200: s.UserSerializer, **errors(400)},
    )
    def patch(self, request: Request) -> Response:
        data = valid(s.UnitsSerializer, request)
        if "units" in data:
            services.user_units_change(user=request.user, units=data["units"])
        return Response(user_body(request, request.user))

    @extend_schema(
        tags=["me"],
        summary="Delete your account and everything of it",
        description="Confirm with `password`; an account without a password (social login) "
        "confirms with its `email`. Subscriptions, search history, tokens and sessions go; "
        "shared cities and their readings stay.",
        request=s.AccountDeleteSerializer,
        responses={204: None, **errors(400)},
    )
    def delete(self, request: Request) -> Response:
        data = valid(s.AccountDeleteSerializer, request)
        services.user_delete(
            user=request.user, password=data.get("password"), email=data.get("email")
        )
        # This browser's session went with the account; forget it in the answer too.
        if hasattr(request._request, "session"):
            request._request.session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportApi(APIView):
    """All of the caller's data as one JSON file: never secrets or hashes."""

    @extend_schema(
        tags=["me"],
        summary="Export all your data (a JSON attachment)",
        responses={200: s.ExportSerializer},
    )
    def get(self, request: Request) -> Response:
        from skywatch.accounts.export import account_export

        response = Response(account_export(user=request.user))
        response["Content-Disposition"] = 'attachment; filename="skywatch-export.json"'
        response["Cache-Control"] = "no-store"
        return response


class MeLogoutEverywhereApi(APIView):
    """Log out everywhere: every session and JWT of the account, this one included, stops working
    and every open dashboard socket closes (4401); personal API tokens are revoked one by one."""

    @extend_schema(
        tags=["me"],
        summary="Log out everywhere (every session and JWT; not personal API tokens)",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        services.user_credentials_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
