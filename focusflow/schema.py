"""Shared OpenAPI pieces so every endpoint documents its errors the same way."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for humans.")
    code = serializers.CharField(help_text="A stable machine-readable code.")


class ValidationErrorSerializer(serializers.Serializer):
    """`{"<field>": ["message", ...]}`; errors that concern no single field are under
    `non_field_errors`."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


def error(description: str, serializer=ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


def validation_error(description: str = "Invalid input, per field.") -> OpenApiResponse:
    return OpenApiResponse(response=ValidationErrorSerializer, description=description)


UNAUTHORIZED = error(
    "Missing, malformed, expired or revoked access token (`code`: `not_authenticated`, "
    "`token_not_valid`, `user_not_found`, `user_inactive`)."
)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular leaves out request bodies on DELETE; `DELETE /api/users/me/` has one
    (the password), and generated clients must be able to send it."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE" or self.get_request_serializer() is None:
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
