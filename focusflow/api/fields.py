"""Serializer fields shared by the apps, and the shape of a timestamp in every response."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from focusflow.core.timezones import validate_time_zone


class TimeZoneField(serializers.CharField):
    """An IANA time zone name such as `Europe/Paris`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(validate_time_zone)


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that says its UTC offset (`2026-11-20T09:00:00+01:00`, `...Z`).

    A device's clock reading without an offset is ambiguous (whose midnight?), so it is refused
    rather than read in the server's zone."""

    default_error_messages = {
        "naive": "Include the UTC offset, e.g. 2026-11-20T09:00:00+01:00 or 2026-11-20T08:00:00Z.",
    }

    def to_internal_value(self, value):
        instant = super().to_internal_value(value)
        if isinstance(value, str) and _is_naive(value):
            self.fail("naive")
        return instant


def _is_naive(text: str) -> bool:
    try:
        parsed = parse_datetime(text.strip())
    except ValueError:
        return False  # not a valid instant at all: the parent field has said so
    return parsed is not None and timezone.is_naive(parsed)


class ClientIdField(serializers.UUIDField):
    """A UUID written as text (`"0b9c..."`), as devices make them; not a number that happens to
    convert to one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def instant(value: datetime | None) -> str | None:
    """A timestamp as DRF's DateTimeField shows it (ISO 8601, in UTC, `Z`), for the serializers
    that write their representation by hand on hot paths."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
