"""How values read to people: object names and admin cells. Times use the project's one
format (`focusflow/formats/`), to the second and with the zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import formats, timezone


def excerpt(text: str, length: int) -> str:
    """`text` on one line, cut to `length` characters with an ellipsis when anything was cut."""
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def duration_text(span: timedelta) -> str:
    """`24 hours`, `5 minutes`, `30 days`: a span as a person says it, for messages that must
    say what the constant behind them says. Its largest whole unit, days only from two days
    up (a day is "24 hours" when the clock matters)."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= (2 * size if unit == "day" else size):
            count = seconds // size
            return f"{count} {unit}" + ("s" if count != 1 else "")
    return f"{seconds} second" + ("s" if seconds != 1 else "")


def datetime_text(moment: datetime, zone: str | None = None) -> str:
    """`2026-11-20 10:00:00 CET`: `moment` on the clock of `zone` (an IANA name), or of the
    current time zone (UTC unless activated otherwise)."""
    local = moment.astimezone(ZoneInfo(zone)) if zone else timezone.localtime(moment)
    return formats.date_format(local, "DATETIME_FORMAT")


def date_text(moment: datetime, zone: str | None = None) -> str:
    """`2026-11-20`: the calendar day of `moment` in `zone`, as `datetime_text` reads it."""
    local = moment.astimezone(ZoneInfo(zone)) if zone else timezone.localtime(moment)
    return formats.date_format(local, "DATE_FORMAT")
