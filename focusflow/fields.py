"""Serializer fields shared by the apps."""

from rest_framework import serializers

from focusflow.validators import validate_time_zone


class TimeZoneField(serializers.CharField):
    """An IANA time zone name such as `Europe/Paris`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(validate_time_zone)
