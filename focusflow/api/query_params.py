"""Query-string serializers shared by list endpoints."""

from rest_framework import serializers


class LocalDateRangeQuerySerializer(serializers.Serializer):
    """`from` and `to`: days (YYYY-MM-DD) on the user's own calendar, both inclusive."""

    # `from` is a Python keyword: declared as from_, exposed as `from`.
    from_ = serializers.DateField(required=False, help_text="First local day (YYYY-MM-DD), inclusive.")
    to = serializers.DateField(required=False, help_text="Last local day (YYYY-MM-DD), inclusive.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs):
        first, last = attrs.get("from"), attrs.get("to")
        if first and last and first > last:
            raise serializers.ValidationError({"to": ["Must be on or after `from`."]})
        return attrs
