"""The bases every API viewset derives from."""

from rest_framework import viewsets
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import AllowAny

from focusflow.api.scopes import PersonalTokenThrottle, TokenScopePermission, scopes_of
from focusflow.throttling.throttles import UserReadThrottle, UserWriteThrottle, handler_throttle_classes

# The ids in URLs: digits, no more than a bigint has (a longer one is a 404 before any view,
# where int() of thousands of digits would raise).
ID_PATTERN = "[0-9]{1,19}"


class Metadata(SimpleMetadata):
    """OPTIONS says what the endpoint is and which formats it speaks; its fields are in the
    schema (/api/schema/). DRF's default would also describe a body from the viewset's
    `serializer_class`, which viewsets with a serializer per action do not have: a 500."""

    def determine_actions(self, request, view) -> dict:
        return {}


class APIViewSet(viewsets.GenericViewSet):
    """An API resource: JWT-authenticated, JSON, errors in the contract's shape (the exception
    handler), shared error responses in the schema (`focusflow.api.schema.AutoSchema`). Its
    `get_queryset()` filters by `request.user`, so another user's object is a 404.

    A personal access token reaches only what its scopes allow (`focusflow.api.scopes`: the
    viewset's `token_scopes`, a handler's `@token_scope`); nothing, where neither says.

    Every authenticated read counts against USER_READ_THROTTLE_RATE and every authenticated
    write against USER_WRITE_THROTTLE_RATE, or, made with a personal access token, against
    that token's own TOKEN_THROTTLE_RATE (a runaway script cannot lock its owner's apps out);
    a handler adds its own
    limits with `@rate_limited(...)` (focusflow.throttling.throttles). Responses are `Cache-Control:
    no-store` unless the handler says otherwise: they are one account's data, or its tokens."""

    # Operations are named `<prefix>_<action>` in the schema; the prefix defaults to the
    # router basename.
    operation_id_prefix: str | None = None
    metadata_class = Metadata

    def handler(self):
        """The method that answers this request (an action, or a method mapped onto one)."""
        return getattr(self, self.action, None) if self.action else None

    # What a personal access token needs here: (for reads, for writes); None: no token may.
    token_scopes: tuple[str, str] | None = None

    def get_permissions(self):
        return [*super().get_permissions(), TokenScopePermission()]

    def get_throttles(self):
        request = getattr(self, "request", None)
        by_token = request is not None and scopes_of(getattr(request, "auth", None)) is not None
        classes = [
            *((PersonalTokenThrottle,) if by_token else (UserReadThrottle, UserWriteThrottle)),
            *self.throttle_classes,
            *handler_throttle_classes(self.handler()),
        ]
        return [throttle() for throttle in classes]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class PublicViewSet(APIViewSet):
    """No access token needed (register, login, refresh, logout). A stale `Authorization`
    header is ignored rather than refused, and a failed login stays a 401: DRF turns a 401
    into a 403 when the view names no authentication scheme for the `WWW-Authenticate` header."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
