from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from focusflow.api.schema import AUTHENTICATION_ERRORS, SchemaAdditions, errors, invalid
from focusflow.api.scopes import ANY_TOKEN, InsufficientScope, scopes_of, token_scope
from focusflow.api.viewsets import ID_PATTERN, APIViewSet, PublicViewSet
from focusflow.throttling.limits import recovery_wait
from focusflow.throttling.throttles import (
    ExportThrottle,
    PasswordCheckThrottle,
    RecoveryThrottle,
    rate_limited,
)
from users import personal_tokens, selectors, services
from users.authentication import BearerAuthentication
from users.exceptions import ResetInvalid, VerificationInvalid
from users.export import ExportSerializer, export_chunks
from users.serializers import (
    AccountDeleteSerializer,
    DetailSerializer,
    EmailChangeConfirmSerializer,
    EmailChangeSerializer,
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    PersonalTokenCreatedSerializer,
    PersonalTokenCreateSerializer,
    PersonalTokenSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from users.services import InvalidCredentials
from users.tokens import TOKEN_VERSION_CLAIM, InvalidRefreshToken, token_family

RESET_REQUESTED = (
    "If an account has this email address, a link and a code to reset its password are on their "
    "way to it. They work for 30 minutes."
)
VERIFICATION_SENT = "A new confirmation link and code are on their way to your email address."
CHANGE_REQUESTED = (
    "A confirmation link and code are on their way to the new address, and a notice to the "
    "current one. The change is made when the new address is confirmed."
)


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


def _signed_in(request, *, required: bool):
    """The account and login (token family) of the request's access token, on endpoints that
    need none unless a code is sent: (None, None) without a usable one, or a 401 when
    `required`. A personal access token is refused (403): no token may verify or change the
    account's address."""
    authenticator = BearerAuthentication()
    try:
        found = authenticator.authenticate(request)
    except exceptions.AuthenticationFailed:
        if required:
            raise
        found = None
    if found is not None and scopes_of(found[1]) is not None:
        raise InsufficientScope(None)
    if found is None:
        if required:
            raise exceptions.NotAuthenticated("Sign in to use a code; a link's token needs no sign-in.")
        return None, None
    return found[0], token_family(found[1])


def _code_counter(request):
    """What a service calls just before it checks a code (once the rest of the input is
    valid): the code counts against this client and the account under
    RECOVERY_THROTTLE_RATE, every code, before it is checked, so that racing guesses cannot
    outrun the count; a 429 while either is over."""

    def count(account: str) -> None:
        if (wait := recovery_wait(request, account=account)) is not None:
            raise exceptions.Throttled(wait)

    return count


def _checks_codes(*, signed_in: bool):
    """For the schema: the handler may refuse a code check with a 429 (RECOVERY_THROTTLE_RATE)
    and, where a code needs a sign-in, with the 401s of authentication."""
    errors = (exceptions.Throttled, *((*AUTHENTICATION_ERRORS, InsufficientScope) if signed_in else ()))

    def decorate(handler):
        handler.schema_additions = SchemaAdditions(errors=errors, optional_bearer=signed_in)
        return handler

    return decorate


class RecoveryViewSet(PublicViewSet):
    """Password reset and the links mailed to an address: no access token needed (a code
    needs one where the contract says so)."""

    operation_id_prefix = "users"

    @extend_schema(
        summary="Ask for a password reset",
        description="Always a 202 with the same body, whether or not an account has the address "
        "(and in the same time: the worker does the rest). When an active account has it, the "
        "address gets a link (`APP_URL/reset-password?token=...`) and a code, valid 30 minutes; "
        "a new request voids the older ones.",
        request=PasswordResetSerializer,
        responses={202: DetailSerializer, **errors(invalid("A malformed email address."))},
    )
    @action(detail=False, methods=["post"], url_path="password/reset")
    @rate_limited(RecoveryThrottle)
    def password_reset(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Set a new password with a reset link or code",
        description="Send the link's `token`, or the account's `email` and the `code`, with "
        "`new_password`. Every login of the account ends, every other link and code is void, "
        "the email counts as verified, and a notice goes to it. A weak password is refused "
        "before anything is spent or counted. Every code tried counts under RECOVERY_THROTTLE_RATE.",
        request=PasswordResetConfirmSerializer,
        responses={
            204: None,
            **errors(
                invalid("A weak new password, or neither or both of token and email+code."), ResetInvalid
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="password/reset/confirm")
    @_checks_codes(signed_in=False)
    def password_reset_confirm(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data, count_code=_code_counter(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Verify my email address",
        description="With the `token` of the emailed link (no sign-in needed), or with the "
        "emailed `code` (signed in: without an access token, 401).",
        request=EmailVerifySerializer,
        responses={200: UserSerializer, **errors(invalid(), VerificationInvalid)},
    )
    @action(detail=False, methods=["post"], url_path="email/verify")
    @_checks_codes(signed_in=True)
    def email_verify(self, request):
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "token" in data:
            user = services.email_verify(token=data["token"])
        else:
            caller, _ = _signed_in(request, required=True)
            user = services.email_verify(code=data["code"], user=caller, count_code=_code_counter(request))
        return Response(UserSerializer(user).data)

    @extend_schema(
        summary="Confirm (or undo) an email change",
        description="The `token` of the link mailed to the new address makes the change; the one "
        "mailed to the old address undoes it. Or the `code` mailed to the new address, signed "
        "in. Every other login of the account ends (all of them when confirmed without "
        "signing in, and on an undo).",
        request=EmailChangeConfirmSerializer,
        responses={
            200: UserSerializer,
            **errors(invalid("The new address was taken meanwhile (on `new_email`)."), VerificationInvalid),
        },
    )
    @action(detail=False, methods=["post"], url_path="email/change/confirm")
    @_checks_codes(signed_in=True)
    def email_change_confirm(self, request):
        serializer = EmailChangeConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "token" in data:
            caller, family = _signed_in(request, required=False)
            user = services.email_change_confirm(token=data["token"], user=caller, family=family)
        else:
            caller, family = _signed_in(request, required=True)
            user = services.email_change_confirm(
                code=data["code"], user=caller, family=family, count_code=_code_counter(request)
            )
        return Response(UserSerializer(user).data)


class MeViewSet(APIViewSet):
    """The caller's own account: there is no way to name anybody else's."""

    operation_id_prefix = "users"

    @extend_schema(summary="My profile", responses={200: UserSerializer})
    @action(detail=False, methods=["get"])
    @token_scope(ANY_TOKEN)
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
        summary="Send me a new verification email",
        description="The earlier link and code stop working. Nothing is sent when the address is "
        "verified already.",
        request=None,
        responses={202: DetailSerializer},
    )
    @action(detail=False, methods=["post"], url_path="me/email/verify/resend")
    @rate_limited(RecoveryThrottle)
    def me_email_verify_resend(self, request):
        services.email_verification_resend(user=request.user)
        return Response({"detail": VERIFICATION_SENT}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Change my email address",
        description="Needs the password. A confirmation (link and code, valid 24 hours) goes to the "
        "new address and a notice to the current one, with a link that undoes the change for 7 "
        "days; `pending_email` shows the new address until then. A new request voids the earlier one.",
        request=EmailChangeSerializer,
        responses={
            202: DetailSerializer,
            **errors(invalid("Wrong password; an invalid or taken address, or the current one.")),
        },
    )
    @action(detail=False, methods=["post"], url_path="me/email/change")
    @rate_limited(PasswordCheckThrottle)
    def me_email_change(self, request):
        serializer = EmailChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.email_change_request(user=request.user, **serializer.validated_data)
        return Response({"detail": CHANGE_REQUESTED}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Export my data",
        description="One JSON document with the profile and every session, journal, tag and goal, "
        "and the account's personal access tokens and webhooks as their lists show them (never a "
        "token's value or a webhook's secret), streamed from one consistent snapshot of the account.",
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


class PersonalTokenViewSet(APIViewSet):
    """`/api/users/me/tokens/`: the caller's personal access tokens, managed with a login
    only (no token may make, list or delete tokens)."""

    operation_id_prefix = "tokens"
    serializer_class = PersonalTokenSerializer
    lookup_value_regex = ID_PATTERN

    @extend_schema(
        summary="My personal access tokens",
        description="The tokens that still work, newest first; never their values.",
        responses={200: PersonalTokenSerializer(many=True)},
    )
    def list(self, request):
        page = self.paginate_queryset(personal_tokens.personal_tokens_live(user=request.user))
        return self.get_paginated_response(PersonalTokenSerializer(page, many=True).data)

    @extend_schema(
        summary="Make a personal access token",
        description="For a script or an integration: `Authorization: Bearer <token>`, limited to "
        "its `scopes`, until it expires (`expires_in_days`, default 90), is deleted, or the "
        "password changes. The token is in this response only; keep it like a password. The "
        "account's address is told that a token was made.",
        request=PersonalTokenCreateSerializer,
        responses={
            201: PersonalTokenCreatedSerializer,
            **errors(invalid(), personal_tokens.TokenLimitReached),
        },
    )
    def create(self, request):
        serializer = PersonalTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = personal_tokens.personal_token_create(
            user=request.user,
            password_version_seen=request.auth.get(TOKEN_VERSION_CLAIM),
            **serializer.validated_data,
        )
        token.token = raw
        return Response(PersonalTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete a personal access token",
        description="It stops working at once; streams opened with it end within seconds.",
        request=None,
        responses={204: None, **errors(exceptions.NotFound)},
    )
    def destroy(self, request, pk=None):
        if not personal_tokens.personal_token_delete(user=request.user, token_id=int(pk)):
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
