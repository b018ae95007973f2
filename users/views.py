from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from focusflow.schema import UNAUTHORIZED, error, validation_error
from focusflow.throttling import LoginRateThrottle, RegisterRateThrottle
from users import selectors, services
from users.serializers import (
    AccountDeleteSerializer,
    ExportSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)

THROTTLED = error("Too many attempts from this address; see `Retry-After` (`code`: `throttled`).")
BAD_REFRESH = error("Invalid, expired, revoked or already used refresh token (`code`: `token_not_valid`).")


class PublicAuthView(APIView):
    """No access token needed. A stale `Authorization` header is ignored rather than
    refused, and a failed login stays a 401 (DRF turns 401 into 403 without this header)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class RegisterView(PublicAuthView):
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(
        summary="Register",
        request=RegisterSerializer,
        responses={
            201: UserSerializer,
            400: validation_error("Email missing, invalid or taken; weak password; unknown timezone."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        summary="Log in",
        request=LoginSerializer,
        responses={
            200: TokenPairSerializer,
            400: validation_error("Email or password missing."),
            401: error("Wrong email or password, same answer for both (`code`: `invalid_credentials`)."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.auth_login(request=request, **serializer.validated_data)
        return Response(tokens)


class TokenRefreshView(PublicAuthView):
    @extend_schema(
        summary="Refresh tokens (rotation)",
        description="Returns a new access and refresh token; the presented refresh token is "
        "blacklisted and cannot be used again.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 400: validation_error(), 401: BAD_REFRESH},
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.auth_refresh(raw_refresh=serializer.validated_data["refresh"]))


class LogoutView(PublicAuthView):
    @extend_schema(
        summary="Log out",
        description="Blacklists the refresh token. No access token is needed, so an app whose "
        "access token has expired can still log out.",
        request=RefreshSerializer,
        responses={204: None, 400: validation_error(), 401: BAD_REFRESH},
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.auth_logout(raw_refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(summary="My profile", responses={200: UserSerializer, 401: UNAUTHORIZED})
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Update my profile",
        request=UserSerializer,
        responses={200: UserSerializer, 400: validation_error(), 401: UNAUTHORIZED},
    )
    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)

    @extend_schema(
        summary="Delete my account",
        description="Deletes the account with all its sessions and journals. Needs the password.",
        request=AccountDeleteSerializer,
        responses={204: None, 400: validation_error("Password missing or wrong."), 401: UNAUTHORIZED},
    )
    def delete(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_delete(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        summary="Change my password",
        description="Every refresh token issued before the change is revoked.",
        request=PasswordChangeSerializer,
        responses={
            204: None,
            400: validation_error("Wrong current password, or a weak new one."),
            401: UNAUTHORIZED,
        },
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    @extend_schema(
        summary="Export my data",
        description="One JSON document with the profile and every session and journal.",
        responses={200: ExportSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        response = Response(selectors.user_export(user=request.user))
        response["Content-Disposition"] = 'attachment; filename="focusflow-export.json"'
        return response
