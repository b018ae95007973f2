"""Shapes of the platform's own endpoints."""

from rest_framework import serializers

from focusflow.api.schema import EnumField


class HealthSerializer(serializers.Serializer):
    status = EnumField(values=["ok"])
    database = EnumField(values=["ok"])


class HealthDownSerializer(serializers.Serializer):
    status = EnumField(values=["error"])
    database = EnumField(values=["unreachable"])
