from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from focusflow.api.schema import errors, invalid
from focusflow.api.viewsets import APIViewSet, PublicViewSet
from focusflow.throttling.throttles import ExportThrottle, PasswordCheckThrottle, rate_limited
from users import selectors, services
from users.export import ExportSerializer, export_chunks
from users.serializers import (
    AccountDeleteSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from users.services import InvalidCredentials
from users.tokens import InvalidRefreshToken


def _prepended(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """A generator, not itertools.chain: when the server closes the response (the client went
    away mid-download), closing it closes `rest` at once, which ends the export's snapshot
    transaction there and then, not whenever the garbage collector gets to it."""
    yield first
    yield from rest


class AuthViewSet(PublicViewSet):
    """Getting and giving back tokens: no access token needed."""

    operation_id_prefix = "users"

    @extend_schema(
        summary="Register",
        request=RegisterSerializer,
        responses={
            201: UserSerializer,
            **errors(invalid("Email missing, invalid or taken; weak password; unknown timezone.")),
        },
    )
    @action(detail=False, methods=["post"])
    @rate_limited(PasswordCheckThrottle)
    def register(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Log in",
        request=LoginSerializer,
        responses={
            200: TokenPairSerializer,
            # Wrong email and wrong password get the same answer.
            **errors(invalid("Email or password missing."), InvalidCredentials),
        },
    )
    @action(detail=False, methods=["post"])
    @rate_limited(PasswordCheckThrottle)
    def login(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.auth_login(request=request, **serializer.validated_data))

    @extend_schema(
        summary="Refresh tokens (rotation)",
        description="Returns a new access and refresh token; the presented refresh token is "
        "spent. Presenting a refresh token that was already used revokes every token of its login "
        "(the pair its first use returned included) and is a 401.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, **errors(invalid(), InvalidRefreshToken)},
    )
    @action(detail=False, methods=["post"], url_path="token/refresh")
    def token_refresh(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.auth_refresh(raw_refresh=serializer.validated_data["refresh"]))

    @extend_schema(
        summary="Log out",
        description="Ends this login: its refresh token and every access token issued with it "
        "stop working at once; the account's other logins (other devices) go on. No access token "
        "is needed, so an app whose access token has expired can still log out.",
        request=RefreshSerializer,
        responses={204: None, **errors(invalid(), InvalidRefreshToken)},
    )
    @action(detail=False, methods=["post"])
    def logout(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(raw_refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeViewSet(APIViewSet):
    """The caller's own account: there is no way to name anybody else's."""

    operation_id_prefix = "users"

    @extend_schema(summary="My profile", responses={200: UserSerializer})
    @action(detail=False, methods=["get"])
    def me(self, request):
        return Response(UserSerializer(selectors.user_profile(user=request.user)).data)

    @extend_schema(
        summary="Update my profile",
        request=UserSerializer,
        responses={200: UserSerializer, **errors(invalid())},
    )
    @me.mapping.patch
    def me_update(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)

    @extend_schema(
        summary="Delete my account",
        description="Deletes the account with all its sessions and journals. Needs the password.",
        request=AccountDeleteSerializer,
        responses={204: None, **errors(invalid("Password missing or wrong."))},
    )
    @me.mapping.delete
    @rate_limited(PasswordCheckThrottle)
    def me_delete(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_delete(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Change my password",
        description="Every token issued before the change, on every device, stops working at once "
        "(this request's access token included): log in again with the new password.",
        request=PasswordChangeSerializer,
        responses={204: None, **errors(invalid("Wrong current password, or a weak new one."))},
    )
    @action(detail=False, methods=["post"], url_path="me/password")
    @rate_limited(PasswordCheckThrottle)
    def me_password(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export my data",
        description="One JSON document with the profile and every session and journal, streamed "
        "from one consistent snapshot of the account.",
        responses={200: ExportSerializer},
    )
    @action(detail=False, methods=["get"], url_path="me/export")
    @rate_limited(ExportThrottle)
    def me_export(self, request):
        chunks = export_chunks(user=request.user)
        # The first chunk opens the snapshot and reads the account, so a failure there is still
        # an ordinary error response, not a broken stream.
        first = next(chunks)
        response = StreamingHttpResponse(_prepended(first, chunks), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="focusflow-export.json"'
        return response
