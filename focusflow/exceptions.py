"""One place that decides what every API error looks like.

Validation errors keep DRF's shape, `{"<field>": ["message", ...]}`. Every other error is
`{"detail": "<human sentence>", "code": "<machine_code>"}`, plus any extra keys a domain error
carries (the running session of a 409, say). Nothing that reaches here answers with HTML.
"""

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from focusflow.parsers import RequestTooLarge

logger = logging.getLogger(__name__)


class DomainError(exceptions.APIException):
    """A business-rule error raised by a service; `extra` adds keys to the response body."""

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail=detail)
        self.extra = extra or {}


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
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        return not get_user_model().objects.filter(pk=user.pk).exists()
    except DatabaseError:  # the connection is in no state to ask; report the original error
        return False


def api_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request could not be understood.")
    elif isinstance(exc, DjangoValidationError):
        # A model-level check that no serializer ran first: still the client's input.
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None and _account_deleted_meanwhile(context.get("request")):
        # A write that raced the deletion of its own account (a foreign key to the gone user,
        # an update of a row that went): what the next request would hear anyway.
        return Response({"detail": "User not found", "code": "user_not_found"}, status=401)
    if response is None:
        # An unexpected error: log it with its traceback, answer in the API's shape.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        return Response(
            {"detail": "Something went wrong on our side.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):
            response.data = {"non_field_errors": response.data}
        return response

    message, code = _flat_detail(exc.detail)
    response.data = {"detail": message, "code": code, **getattr(exc, "extra", {})}
    return response
