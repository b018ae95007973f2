"""Calendar days in a user's own time zone, as UTC instants for queries."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_start(day: date, zone: ZoneInfo) -> datetime | None:
    """The instant the local day begins, or None when it lies outside datetime's range
    (year 1 or 9999 in a far-off zone): the caller treats that bound as open."""
    try:
        start = datetime.combine(day, time.min, tzinfo=zone)
        start.astimezone(ZoneInfo("UTC"))
    except OverflowError:
        return None
    return start


def local_range_filter(field: str, *, zone: ZoneInfo, first: date | None, last: date | None) -> dict:
    """ORM filter kwargs for `field` within the local days first..last, both inclusive."""
    bounds: dict = {}
    if first is not None and (start := day_start(first, zone)) is not None:
        bounds[f"{field}__gte"] = start
    if last is not None:
        try:
            after = last + timedelta(days=1)
        except OverflowError:
            after = None
        if after is not None and (end := day_start(after, zone)) is not None:
            bounds[f"{field}__lt"] = end
    return bounds


def local_today(zone: ZoneInfo, *, now: datetime) -> date:
    return now.astimezone(zone).date()
