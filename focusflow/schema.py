"""Shared OpenAPI pieces so every endpoint documents its errors the same way."""

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
