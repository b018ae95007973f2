"""Data portability: each app adds its part of `GET /api/users/me/export/`.

Apps register a section in their AppConfig.ready() (the user's rows, oldest first, and the
serializer that shows them), so the users app does not import the others and a new app joins
the export by registering, not by editing users/.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework.serializers import Serializer


@dataclass(frozen=True)
class ExportSection:
    name: str
    rows: Callable[..., QuerySet]  # rows(user=...): the user's rows, in export order
    serializer: type[Serializer]


_sections: dict[str, ExportSection] = {}


def register_export_section(
    name: str, *, rows: Callable[..., QuerySet], serializer: type[Serializer]
) -> None:
    _sections[name] = ExportSection(name=name, rows=rows, serializer=serializer)


def export_sections() -> list[ExportSection]:
    return [_sections[name] for name in sorted(_sections)]
