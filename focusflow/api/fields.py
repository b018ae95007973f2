"""Serializer fields shared by the apps, and the shape of a timestamp in every response."""

import re
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import ISO_8601, serializers
from rest_framework.utils import humanize_datetime

from focusflow.core.timezones import validate_time_zone

# Every instant a client sends lies in [EARLIEST, LATEST): far enough from datetime's own ends
# (years 1 and 9999) that its local time in any zone a user may choose (UTC-12 to UTC+14; the
# larger offsets of local mean time ended long before 2000), and a day either side of that for
# the rollup's streaks, is still a datetime. No date arithmetic on a stored time can overflow.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
BOUNDS_MESSAGE = "Must be from 2000-01-01T00:00:00Z up to (not including) 9999-01-01T00:00:00Z."


def within_bounds(moment: datetime) -> bool:
    return EARLIEST <= moment < LATEST


def plain_text(value: str) -> bool:
    """ASCII and printable: what a date, time or number in this API is written in. Python's and
    Django's parsers read other digits (`٣`, fullwidth `３`) and let a trailing NUL or newline
    through; no client means those."""
    return value.isascii() and value.isprintable()


class TimeZoneField(serializers.CharField):
    """An IANA time zone name such as `Europe/Paris`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(validate_time_zone)


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that says its UTC offset (`2026-11-20T09:00:00+01:00`, `...Z`), in
    ASCII, within [EARLIEST, LATEST).

    A device's clock reading without an offset is ambiguous (whose midnight?), so it is refused
    rather than read in the server's zone. An instant outside the bounds is refused here, for
    every endpoint at once, so no service or rollup ever computes with one."""

    default_error_messages = {
        "naive": "Include the UTC offset, e.g. 2026-11-20T09:00:00+01:00 or 2026-11-20T08:00:00Z.",
        "offset": "Write the UTC offset in hours and minutes (Z, +01:00, -09:30), at most ±23:59.",
        "overflow": BOUNDS_MESSAGE,  # DRF's: the instant is not even a datetime in UTC
        "bounds": BOUNDS_MESSAGE,
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and not plain_text(value):
            self.fail("invalid", format=humanize_datetime.datetime_formats([ISO_8601]))
        instant = super().to_internal_value(value)
        if isinstance(value, str) and _is_naive(value):
            self.fail("naive")
        if isinstance(value, str) and not _OFFSET.search(value.strip()):
            # Python also reads offsets with seconds and fractions (`+00:00:00.5`), and the
            # parser Django falls back on drops what it cannot read: the instant would be off.
            self.fail("offset")
        if not within_bounds(instant):
            self.fail("bounds")
        return instant


_OFFSET = re.compile(r"(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)$")


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
        # ASCII only: `uuid.UUID` reads other digits too (`٠` as 0), another spelling of an id.
        if not isinstance(data, str) or not plain_text(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def instant(value: datetime | None) -> str | None:
    """A timestamp as DRF's DateTimeField shows it (ISO 8601, in UTC, `Z`), for the serializers
    that write their representation by hand on hot paths."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class FlatListField(serializers.ListField):
    """A list whose errors are a list of messages, as every field's are in this API's 400
    (DRF's ListField keys them by position: `{"0": [...]}`)."""

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict):
                detail = [
                    f"Item {index}: {message}" for index, messages in detail.items() for message in messages
                ]
            raise serializers.ValidationError(detail) from None
