"""Query-string fields and serializers shared by list endpoints."""

import re
from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import serializers

from focusflow.api.fields import plain_text

# Days a client names lie in [FIRST_DAY, LAST_DAY]: the day after the last one, in any zone a
# user may choose, still begins at an instant that is a datetime (focusflow.core.dates).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9998, 12, 31)
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def whole_number(text: str) -> bool:
    """ASCII digits, with an optional sign. int() also reads `٣`, fullwidth `３`, `1_000` and
    ` 7 `, which no client means as a number in a URL."""
    return _WHOLE_NUMBER.fullmatch(text) is not None


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string, in ASCII digits."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class LocalDateField(serializers.DateField):
    """A day (YYYY-MM-DD, ASCII) from FIRST_DAY to LAST_DAY."""

    default_error_messages = {"bounds": f"Must be from {FIRST_DAY} to {LAST_DAY}."}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        message = self.error_messages["bounds"]
        self.validators += [MinValueValidator(FIRST_DAY, message), MaxValueValidator(LAST_DAY, message)]

    def to_internal_value(self, value):
        # Python's date parser also reads `20200101`, `2020-W01-1`; the schema promises one form.
        if isinstance(value, str) and not (plain_text(value) and _DAY.fullmatch(value.strip())):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class LocalDateRangeQuerySerializer(serializers.Serializer):
    """`from` and `to`: days (YYYY-MM-DD) on the user's own calendar, both inclusive."""

    # `from` is a Python keyword: declared as from_, exposed as `from`.
    from_ = LocalDateField(required=False, help_text="First local day (YYYY-MM-DD), inclusive.")
    to = LocalDateField(required=False, help_text="Last local day (YYYY-MM-DD), inclusive.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        first, last = attrs.get("from"), attrs.get("to")
        if first and last and first > last:
            raise serializers.ValidationError({"to": ["Must be on or after `from`."]})
        return attrs
