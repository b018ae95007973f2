"""The platform's own API exceptions. Each message lives in exactly one class; domain errors carry
their own data (`data_fields`), which the exception handler (`focusflow.api.handler`) adds to
the body. This module imports nothing of DRF's views, so any module may import it, even one
DRF loads while its views are being set up (authentication classes, parsers)."""

from typing import Any

from django.db.models import Model
from rest_framework import exceptions, status
from rest_framework.fields import Field
from rest_framework.serializers import Serializer


class DomainError(exceptions.APIException):
    """A business-rule error raised by a service. Subclasses set `status_code`,
    `default_detail` and `default_code`, and may add keys to the body through `data_fields`
    (the exception carries its own data; views never decorate it afterwards)."""

    @property
    def data_fields(self) -> dict[str, Any]:
        return {}

    @classmethod
    def data_schema(cls, serializer: type[Serializer] | None = None) -> dict[str, Field]:
        """The fields `data_fields` adds, for the OpenAPI schema (`serializer`: the one an error
        about any kind of object shows it with)."""
        return {}


class ServerError(DomainError):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "Something went wrong on our side."
    default_code = "server_error"


class BadRequest(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be understood."
    default_code = "bad_request"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You do not have permission to perform this action."
    default_code = "permission_denied"


class CsrfFailed(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "CSRF check failed."
    default_code = "csrf_failed"


class LengthRequired(DomainError):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Send the body with a Content-Length header."
    default_code = "length_required"


class UnsupportedMediaType(DomainError):
    """DRF's own puts the whole `Content-Type` header in its message, however long: this says
    what to send instead, in one fixed sentence."""

    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "Send the body as JSON, with Content-Type: application/json."
    default_code = "unsupported_media_type"


class RequestTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class AccountGone(exceptions.AuthenticationFailed):
    """The token is fine but its account was deleted (possibly while this request ran)."""

    default_detail = "User not found"
    default_code = "user_not_found"


class VersionConflict(DomainError):
    """An `If-Match` version that is no longer current: nothing changed; the current object is
    in the body, so the client can merge and retry."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since that version; nothing was changed. It is under `current`."
    default_code = "version_conflict"

    def __init__(self, *, current: Model, serializer: type[Serializer]) -> None:
        super().__init__()
        self.current, self.serializer = current, serializer

    @property
    def data_fields(self) -> dict[str, Any]:
        return {"current": self.serializer(self.current).data}

    @classmethod
    def data_schema(cls, serializer: type[Serializer] | None = None) -> dict[str, Field]:
        assert serializer, "Declare it with the serializer of its object: Carrying(VersionConflict, ...)"
        return {"current": serializer(help_text="The object as it is now.")}
