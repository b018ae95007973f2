"""Cursor pagination: `{"next", "previous", "results"}`, newest first.

A cursor stays fast on a very long history (no OFFSET, no COUNT) and never skips or repeats a
row when new ones arrive while a client pages.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import exceptions, pagination

from focusflow.api.fields import plain_text, within_bounds
from focusflow.api.query_params import whole_number


class CursorPagination(pagination.CursorPagination):
    page_size_query_param = "page_size"
    ordering = ("-created_at", "-id")

    @property
    def max_page_size(self) -> int:
        return settings.MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if not raw.strip():  # absent or empty, like every other optional parameter
            return self.page_size
        try:
            size = int(raw) if whole_number(raw) else 0
        except ValueError:  # more digits than int() reads
            size = 0
        if size < 1:
            raise exceptions.ValidationError({"page_size": ["Must be a whole number of at least 1."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Opaque: which page. The `next` and `previous` links carry it; none for the first page."
                )
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = (
                    f"Results per page, default {self.page_size}; values above {self.max_page_size} "
                    f"are clamped to {self.max_page_size}."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        """Both links are always there (null at either end), as full URLs that keep the query."""
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next (older) page, or null on the last one."},
                "previous": {**link, "description": "The previous (newer) page, or null on the first one."},
                "results": schema,
            },
        }

    def paginate_queryset(self, queryset, request, view=None):
        self._position_field = queryset.model._meta.get_field(self.ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """A cursor is client input: a forged one is a 400, never a query that crashes."""
        invalid = exceptions.ValidationError({"cursor": ["Invalid cursor."]})
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid from None
        if cursor is not None and cursor.position is not None:
            if not plain_text(cursor.position):  # `%D9%A3` reads as a digit, `%00` as nothing
                raise invalid
            try:
                position = self._position_field.to_python(cursor.position)
            except DjangoValidationError:
                raise invalid from None
            if isinstance(position, datetime):
                # Python accepts offsets up to ±23:59, PostgreSQL only to ±15:59: hand the
                # query an unambiguous UTC instant, one of the instants a client may send
                # (beyond them, UTC may not even be a datetime: 9999-12-31T23:00-12:00).
                if timezone.is_naive(position) or not within_bounds(position):
                    raise invalid
                position = position.astimezone(UTC).isoformat()
            cursor = cursor._replace(position=position)
        return cursor
