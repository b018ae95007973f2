"""Data portability: each app adds its part of `GET /api/users/me/export/`.

Apps register a section in their AppConfig.ready(), so the users app does not import the
others and a new app joins the export by registering, not by editing users/.
"""

from collections.abc import Callable
from typing import Any

ExportSection = Callable[..., Any]

_sections: dict[str, ExportSection] = {}


def register_export_section(name: str, build: ExportSection) -> None:
    """`build(user=...)` returns JSON-ready data for the user's part of the export."""
    _sections[name] = build


def export_sections(*, user) -> dict[str, Any]:
    return {name: build(user=user) for name, build in sorted(_sections.items())}
