"""One place that decides what every API error looks like.

Validation errors keep DRF's shape, `{"<field>": ["message", ...]}`. Every other error is
`{"detail": "<human sentence>", "code": "<machine_code>"}`, plus any data fields a domain error
carries (the running session of a 409, say). `error_body` builds that body for everyone: the
DRF exception handler below, the plain Django views in `focusflow.api.views` and the middleware.
Each message lives in exactly one exception class.
"""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from focusflow.api.exceptions import (
    AccountGone,
    BadRequest,
    DomainError,
    RequestTooLarge,
    ServerError,
    UnsupportedMediaType,
)
from focusflow.db import outage

logger = logging.getLogger(__name__)


def error_body(detail: str, code: str, **data_fields: Any) -> dict[str, Any]:
    """The body of every non-validation error."""
    return {"detail": str(detail), "code": str(code), **data_fields}


def error_response(exc: exceptions.APIException, *, detail: str | None = None) -> JsonResponse:
    """A plain Django JSON response for an API error, for code that runs outside DRF views."""
    body = error_body(detail or exc.detail, exc.default_code, **_data_fields(exc))
    return JsonResponse(body, status=exc.status_code)


def _data_fields(exc: Exception) -> dict[str, Any]:
    return exc.data_fields if isinstance(exc, DomainError) else {}


def _flat_detail(detail: Any) -> tuple[str, str]:
    """SimpleJWT puts a dict in `detail`; everything else has an ErrorDetail or a string."""
    if isinstance(detail, dict):
        message = detail.get("detail", "")
        code = detail.get("code", getattr(message, "code", None))
        return str(message), str(code or "error")
    if isinstance(detail, list) and detail:
        detail = detail[0]
    return str(detail), str(getattr(detail, "code", None) or "error")


def _account_deleted_meanwhile(request) -> bool:
    """The one place that decides that a failed write raced the deletion of its own account
    (a foreign key to the gone user, an update of a row that went)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        return not get_user_model().objects.filter(pk=user.pk).exists()
    except DatabaseError:  # the connection is in no state to ask; report the original error
        return False


def _as_api_exception(exc: Exception) -> Exception:
    """Django's own exceptions, in DRF's terms."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return BadRequest()
    if isinstance(exc, DjangoValidationError):
        # A model-level check that no serializer ran first: still the client's input.
        return exceptions.ValidationError(detail=exc.messages)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, exceptions.UnsupportedMediaType):  # raised by DRF's Request, on its words
        return UnsupportedMediaType()
    return exc


def api_exception_handler(exc: Exception, context: dict) -> Response:
    exc = outage.translate(exc, context)  # the database out of reach: 503, never a 500
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None and _account_deleted_meanwhile(context.get("request")):
        exc = AccountGone()  # what the next request would hear anyway
        response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected error: log it with its traceback, answer in the API's shape.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        exc = ServerError()
        response = drf_exception_handler(exc, context)

    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):
            response.data = {"non_field_errors": response.data}
        return response

    message, code = _flat_detail(exc.detail)
    response.data = error_body(message, code, **_data_fields(exc))
    return response
