"""The OpenAPI schema as a contract for code generators: every operation documents its security,
its errors and its headers the same way, from one place.

`AutoSchema` is the base every view gets (DEFAULT_SCHEMA_CLASS). It
- names operations `<prefix>_<action>` (`sessions_start`, `journals_list`);
- marks public operations `security: []`; the schema's default (`default_security`) is the
  bearer scheme, and every other operation names it too;
- makes every field a response always carries `required`, read-only or not (a hook);
- adds the errors operations share (the access token, the request body, the idempotency key,
  the throttle, an outage) to those a view declares with `errors(...)`, merged per status.

Error bodies: DRF's field map for validation errors (`ValidationError`); every other error is
`{"detail", "code"}` plus the data fields some errors carry, with `code` an enum of the codes
the operation can give at that status, one component per code set. Codes come from the
exception classes (`default_code`), so a code has one home. A status that can answer both
shapes answers a `oneOf` of them.

Through drf-spectacular's public extension points where it has them (extensions, the
postprocessing hooks `response_shapes` and `default_security`); it has none for merging the
shared errors into an operation's responses or for a DELETE's request body, so
`_get_response_bodies` and `_get_request_body` are overridden, and
`focusflow/tests/test_schema_pins.py` fails loudly on an upgrade until they are re-read.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.serializers import Serializer
from rest_framework_simplejwt.exceptions import InvalidToken

from focusflow.api.exceptions import (
    AccountGone,
    BadRequest,
    LengthRequired,
    RequestTooLarge,
    UnsupportedMediaType,
)
from focusflow.api.scopes import ANY_TOKEN, InsufficientScope, required_scope
from focusflow.api.viewsets import ID_PATTERN
from focusflow.db.outage import DatabaseUnavailable

# --- Fields ------------------------------------------------------------------------------------


class EnumField(serializers.CharField):
    """A string that is one of `values`: an inline enum in the schema (a literal union in a
    generated client), named by the component that holds it rather than by a global enum."""

    def __init__(self, *, values: Iterable[str], **kwargs) -> None:
        self.values = tuple(values)
        super().__init__(**kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "enum": list(self.target.values)}


# --- What a decorator adds to an operation -------------------------------------------------------


@dataclass(frozen=True)
class SchemaAdditions:
    """Header parameters and errors that a decorator of a view's handler adds to its operation
    (`@idempotent`: the `Idempotency-Key` header and its two errors). The decorator sets it as
    the handler's `schema_additions`, so the schema knows no feature by name."""

    parameters: tuple[OpenApiParameter, ...] = ()
    errors: tuple = ()
    # A public operation that also takes a bearer token, for some of what it does (a code
    # typed by a signed-in person): its security says the token is optional.
    optional_bearer: bool = False


def schema_additions(handler) -> SchemaAdditions:
    return getattr(handler, "schema_additions", None) or SchemaAdditions()


# --- Error codes -------------------------------------------------------------------------------


class ErrorSource(Protocol):
    """What the schema needs of an error: an exception class has it, an `ErrorCode` too."""

    status_code: int
    default_code: str
    default_detail: Any


@dataclass(frozen=True)
class ErrorCode:
    """A code that no exception class carries: SimpleJWT passes some as literals."""

    status_code: int
    default_code: str
    default_detail: str


BAD_AUTHORIZATION_HEADER = ErrorCode(
    401, "bad_authorization_header", "The Authorization header is not `Bearer <token>`."
)
USER_INACTIVE = ErrorCode(401, "user_inactive", "User is inactive")

# What a missing, malformed, expired, revoked or deactivated access token gets
# (rest_framework_simplejwt.authentication and users.authentication).
AUTHENTICATION_ERRORS: tuple[ErrorSource, ...] = (
    exceptions.NotAuthenticated,
    BAD_AUTHORIZATION_HEADER,
    InvalidToken,
    AccountGone,
    USER_INACTIVE,
)
# Errors that say when to try again, in `Retry-After`.
WAIT_ERRORS = (exceptions.Throttled, DatabaseUnavailable)
# What an unreadable request body gets (focusflow.api.parsers, focusflow.middleware).
BODY_ERRORS: tuple[ErrorSource, ...] = (
    exceptions.ParseError,
    UnsupportedMediaType,
    RequestTooLarge,
    LengthRequired,
)

# Code sets of more than one code need a name; a single code names its own component.
CODE_SET_NAMES = {
    frozenset(source.default_code for source in AUTHENTICATION_ERRORS): "AuthenticationError",
    # GET /api/events/ also takes a ticket (focusflow.events).
    frozenset({source.default_code for source in AUTHENTICATION_ERRORS} | {"ticket_not_valid"}): (
        "EventsAuthenticationError"
    ),
    frozenset({"throttled", "too_many_streams"}): "EventsThrottled",
    frozenset({"bad_request", "parse_error", "invalid_idempotency_key"}): "RequestError",
    frozenset({"bad_request", "parse_error"}): "UnreadableRequestError",
    frozenset({"bad_request", "parse_error", "reset_invalid"}): "ResetRequestError",
    frozenset({"bad_request", "parse_error", "verification_invalid"}): "VerificationRequestError",
    frozenset({"bad_request", "parse_error", "validation_invalid"}): "WebhookValidationRequestError",
}


@dataclass(frozen=True)
class Invalid:
    """DRF's validation error, `{"<field>": ["message", ...]}`, and what makes input invalid."""

    description: str = "Invalid input, per field."
    status_code: int = 400


@dataclass(frozen=True)
class Carrying:
    """An error whose body carries an object as `serializer` shows it (the `current` of a
    VersionConflict, the `existing` of a ClientIdConflict)."""

    error: type[exceptions.APIException]
    serializer: type[Serializer]

    @property
    def status_code(self) -> int:
        return self.error.status_code


def invalid(description: str = Invalid.description) -> Invalid:
    return Invalid(description)


class ErrorResponse:
    """The errors of one status, for `AutoSchema` to merge with the shared ones and build."""

    def __init__(self, parts: Iterable) -> None:
        self.parts = tuple(parts)


def errors(*parts) -> dict[int, ErrorResponse]:
    """The error responses of an operation, grouped by the status each error has:
    `**errors(invalid("..."), NoActiveSession, Carrying(VersionConflict, FocusSessionSerializer))`.
    Errors every operation of its kind shares are added by `AutoSchema`."""
    grouped: dict[int, list] = {}
    for part in parts:
        grouped.setdefault(part.status_code, []).append(part)
    return {status: ErrorResponse(group) for status, group in grouped.items()}


# --- Error components --------------------------------------------------------------------------


def _camel(code: str) -> str:
    return "".join(word.capitalize() for word in code.split("_"))


def _component_name(stem: str) -> str:
    return stem if stem.endswith("Error") else f"{stem}Error"


def _code_list(sources: Iterable[ErrorSource]) -> str:
    """`- `code`: detail` lines; DRF's `{placeholders}` read as `<placeholders>`."""
    return "\n".join(
        f"- `{source.default_code}`: " + re.sub(r"\{(\w+)\}", r"<\1>", str(source.default_detail))
        for source in sources
    )


def _data_schema(source, serializer=None) -> dict[str, serializers.Field]:
    """The fields an error adds to its body (`DomainError.data_schema`), for the schema."""
    data_schema = getattr(source, "data_schema", None)
    return data_schema(serializer) if data_schema else {}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for humans.")


_components: dict[object, type[Serializer]] = {}
_component_keys: dict[str, object] = {}


def _error_component(key, name: str, codes: list[str], doc: str, data_fields=dict) -> type[Serializer]:
    """One serializer class, so one schema component, per code set (or data-carrying error).
    `data_fields()`: the fields the body carries after `code`."""
    if key not in _components:
        if _component_keys.setdefault(name, key) != key:
            raise ImproperlyConfigured(
                f"Two error bodies are named {name}: {key} and {_component_keys[name]}"
            )
        # Fields keep the order they were made in: detail, code, then the data.
        fields = {"code": EnumField(values=codes, help_text="A stable machine-readable code.")}
        fields.update(data_fields())
        _components[key] = type(
            f"{name}Serializer", (ErrorSerializer,), {**fields, "__doc__": doc, "__module__": __name__}
        )
    return _components[key]


def code_set_component(sources: Iterable[ErrorSource]) -> type[Serializer]:
    """`{"detail", "code"}` with `code` one of these codes."""
    by_code = {source.default_code: source for source in sources}
    codes = sorted(by_code)
    key = frozenset(codes)
    if len(codes) == 1:
        name = _component_name(_camel(codes[0]))
    elif key in CODE_SET_NAMES:
        name = CODE_SET_NAMES[key]
    else:
        raise ImproperlyConfigured(f"Name the error code set {codes} in focusflow.api.schema.CODE_SET_NAMES")
    doc = _code_list(by_code[code] for code in codes)
    return _error_component(key, name, codes, doc)


def carrying_component(source, serializer: type[Serializer] | None = None) -> type[Serializer]:
    """`{"detail", "code", <data fields>}` of one error that carries data."""
    stem = _camel(source.default_code)
    if serializer is not None:
        stem = serializer.__name__.removesuffix("Serializer") + stem
    doc = _code_list([source])
    return _error_component(
        (source, serializer),
        _component_name(stem),
        [source.default_code],
        doc,
        lambda: _data_schema(source, serializer),
    )


class ValidationErrorSerializer(serializers.Serializer):
    """`{"<field>": ["message", ...]}`; errors that concern no single field are under
    `non_field_errors`."""


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        messages = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": ValidationErrorSerializer.__doc__.replace("\n    ", " "),
            "properties": {"non_field_errors": messages},
            "additionalProperties": messages,
        }


def _members(parts) -> tuple[list[type[Serializer]], str]:
    """The bodies one status can answer, and its description: the codes that carry no data
    share one component, each error that carries data has its own, validation errors are DRF's
    field map (last: generated clients try the members in order, and a field map would also
    take a `{"detail", "code"}`)."""
    plain, carriers, validation = [], [], []
    for part in parts:
        if isinstance(part, Invalid):
            validation.append(part.description)
        elif isinstance(part, Carrying):
            carriers.append(carrying_component(part.error, part.serializer))
        elif _data_schema(part):
            carriers.append(carrying_component(part))
        else:
            plain.append(part)
    members = [code_set_component(plain)] if plain else []
    members += carriers + ([ValidationErrorSerializer] if validation else [])
    sources = {}
    for part in parts:
        if not isinstance(part, Invalid):
            source = part.error if isinstance(part, Carrying) else part
            sources.setdefault(source.default_code, source)
    lines = [*dict.fromkeys(validation), *([_code_list(sources.values())] if sources else [])]
    return list(dict.fromkeys(members)), "\n\n".join(lines)


# --- Headers -----------------------------------------------------------------------------------


IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='Act only while the object is at this version (`"3"`, the `ETag` of its last read, or '
    'its `version` in quotes); `*` is any version, a list (`"3", "4"`) any of its versions. Compared '
    'strongly: a weak tag (`W/"3"`), a bare `3` or a stale version is a 412 `version_conflict` with '
    "the current object, on reads and writes alike. Without it, a write applies (the last writer wins).",
)
IF_NONE_MATCH_HEADER = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of an earlier answer: 304, without a body, while it is still current.",
)


def etag_header(statuses: list[int]) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=statuses,
        description='The object\'s version, `"<version>"`, for `If-Match` and `If-None-Match`.',
    )


ETAG_HEADER = etag_header([200, 304])


def retry_after_header(statuses: list[int]) -> OpenApiParameter:
    return OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=statuses,
        description="Seconds to wait before trying again.",
    )


# --- The base schema ---------------------------------------------------------------------------

NULL_SCHEMA = {"type": "object", "nullable": True, "enum": [None]}
# The bearer scheme's requirement: drf-spectacular names SimpleJWT's scheme `jwtAuth`.
BEARER = {"jwtAuth": []}


def is_public(view) -> bool:
    """No access token needed: the view lets anybody in."""
    return any(issubclass(permission, AllowAny) for permission in view.permission_classes)


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self) -> str:
        prefix = getattr(self.view, "operation_id_prefix", None) or getattr(self.view, "basename", None)
        action = getattr(self.view, "action", None)
        if prefix and action:
            return f"{prefix}_{action}"
        return super().get_operation_id()

    def get_operation(self, *args, **kwargs):
        """drf-spectacular writes `security: [{}]` for a public operation, which generators
        read as "a token is required"; `security: []` says none is."""
        operation = super().get_operation(*args, **kwargs)
        if operation is None or not is_public(self.view):
            return operation
        ordered = {key: value for key, value in operation.items() if key != "responses"}
        security = [BEARER, {}] if self._additions().optional_bearer else []
        return {**ordered, "security": security, "responses": operation["responses"]}

    def get_auth(self):
        return [] if is_public(self.view) else super().get_auth()

    def _handler(self):
        name = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, name, None)

    def _additions(self) -> SchemaAdditions:
        return schema_additions(self._handler())

    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE") and self.get_request_serializer() is not None

    def _is_throttled(self) -> bool:
        return bool(self._rate_limits())

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        parameters = [*parameters, *self._additions().parameters]
        if "{id}" in self.path and getattr(self.view, "lookup_value_regex", None) == ID_PATTERN:
            parameters = [*parameters, OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)]
        waits = [part.status_code for part in self._shared_errors() if part in WAIT_ERRORS]
        own = self._own_bodies()
        waits = [status for status in waits if str(status) not in own]
        return [*parameters, retry_after_header(waits)] if waits else parameters

    def _own_bodies(self) -> set[str]:
        """The statuses the view answers with a body of its own rather than an error's."""
        declared = self.get_response_serializers()
        if not isinstance(declared, dict):
            return set()
        return {
            str(code[0] if isinstance(code, tuple) else code)
            for code, response in declared.items()
            if not isinstance(response, ErrorResponse)
        }

    def _shared_errors(self) -> list:
        """Errors an operation gives by being what it is, whatever its view does."""
        # Any request: a Host outside ALLOWED_HOSTS or another suspicious one (400 bad_request),
        # an unacceptable Accept, the database out of reach.
        shared: list = [BadRequest, exceptions.NotAcceptable, DatabaseUnavailable]
        if not is_public(self.view):
            shared += AUTHENTICATION_ERRORS
            if required_scope(self.view, self.method) != ANY_TOKEN:
                shared.append(InsufficientScope)
        if self._has_body():
            shared += BODY_ERRORS
        shared += self._additions().errors
        if self._is_throttled():
            shared.append(exceptions.Throttled)
        return shared

    def _rate_limits(self) -> list[str]:
        """What may refuse this operation with a 429: the view's throttles that apply to it."""
        get_throttles = getattr(self.view, "get_throttles", None)
        if get_throttles is None:
            return []
        public = is_public(self.view)
        return [
            throttle.description
            for throttle in get_throttles()
            if getattr(throttle, "documented_for", None)
            and throttle.documented_for(method=self.method, public=public)
        ]

    def _get_response_bodies(self, direction="response"):
        declared = self.get_response_serializers()
        if not isinstance(declared, dict):  # a bare serializer: drf-spectacular picks the status
            return {**super()._get_response_bodies(direction), **self._error_bodies({}, direction)}
        responses = {}
        for code, response in declared.items():
            if not isinstance(response, ErrorResponse):
                # `(200, "text/event-stream")`: a status with its media types, as drf-spectacular takes it.
                status, media_types = (
                    (str(code[0]), code[1:]) if isinstance(code, tuple) else (str(code), None)
                )
                responses[status] = self._get_response_for_code(
                    response, status, media_types, direction=direction
                )
        declared_errors = {code: r for code, r in declared.items() if isinstance(r, ErrorResponse)}
        return dict(sorted({**responses, **self._error_bodies(declared_errors, direction)}.items()))

    def _error_bodies(self, declared: dict, direction) -> dict:
        """The declared errors with the shared ones, per status; a status the view answers
        with a body of its own (health's 503) keeps it."""
        parts: dict[int, list] = {}
        for code, response in declared.items():
            parts.setdefault(int(code), []).extend(response.parts)
        own = self._own_bodies()
        for part in self._shared_errors():
            if str(part.status_code) not in own:
                parts.setdefault(part.status_code, []).append(part)
        return {str(status): self._error_body(status, group, direction) for status, group in parts.items()}

    def _error_body(self, status: int, parts: list, direction) -> dict:
        members, description = _members(parts)
        if status == 429 and (reasons := self._rate_limits()):
            description = f"Rate limited ({'; '.join(reasons)}); wait `Retry-After` seconds.\n\n{description}"
        if len(members) == 1:
            response = OpenApiResponse(members[0], description=description)
        else:
            refs = [self.resolve_serializer(member, direction).ref for member in members]
            response = OpenApiResponse({"oneOf": refs}, description=description)
        return self._get_response_for_code(response, str(status), direction=direction)

    def _get_request_body(self, direction="request"):
        """drf-spectacular leaves out request bodies on DELETE; `DELETE /api/users/me/` has one
        (the password), and generated clients must be able to send it."""
        if self.method != "DELETE" or self.get_request_serializer() is None:
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


def default_security(result, generator, request, public):
    """Postprocessing hook: the bearer scheme is the default; public operations say `[]`, and
    an operation that takes another scheme too (the events ticket) lists both."""
    head = {key: result.pop(key) for key in ("openapi", "info", "servers") if key in result}
    return {**head, "security": [BEARER], **result}


def _nullable_objects(node):
    """drf-spectacular's nullable object, `{allOf: [$ref], nullable: true}`, is not nullable by
    OAS 3.0.3 (`nullable` needs a `type` beside it): say "the object or null" the 3.0.3 way,
    which generators read as `Object | None`."""
    if isinstance(node, list):
        return [_nullable_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_objects(value) for key, value in node.items()}
    if node.get("nullable") and "allOf" in node and "type" not in node:
        rest = {key: value for key, value in node.items() if key not in ("allOf", "nullable")}
        return {"oneOf": [*node["allOf"], NULL_SCHEMA], **rest}
    return node


def _responses_carry_every_field(components: dict) -> None:
    """A response always carries every field it declares: all of them are `required`
    (drf-spectacular leaves out writable fields that are optional in a request). Request
    shapes are the components named `...Request` (COMPONENT_SPLIT_REQUEST); a field map (the
    validation error: `additionalProperties`) has no fields it always carries."""
    for name, schema in components.items():
        if not name.endswith("Request") and schema.get("properties") and "additionalProperties" not in schema:
            schema["required"] = sorted(
                field for field, spec in schema["properties"].items() if not spec.get("writeOnly")
            )


def response_shapes(result, generator, request, public):
    """Postprocessing hook: nullable objects as 3.0.3 says them, every response field required."""
    result = _nullable_objects(result)
    _responses_carry_every_field(result.get("components", {}).get("schemas", {}))
    return result
