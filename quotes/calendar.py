"""The quote calendar: which day it is in QUOTES_TIME_ZONE, and when that day ends."""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def quote_time_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.QUOTES_TIME_ZONE)


def quote_day(*, at: datetime | None = None) -> date:
    """The calendar day, in QUOTES_TIME_ZONE, that picks the quote at `at` (default: now)."""
    return timezone.localdate(at or timezone.now(), timezone=quote_time_zone())


def quote_day_end(*, day: date) -> datetime:
    """The instant `day` ends in QUOTES_TIME_ZONE: the next local midnight, in UTC.

    Where a DST change skips midnight, fold=0 resolves it to the instant of the jump.
    """
    midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=quote_time_zone())
    return midnight.astimezone(zoneinfo.ZoneInfo("UTC"))


def seconds_left_in_day(*, day: date, at: datetime | None = None) -> int:
    """Whole seconds from `at` (default: now) until `day` ends, rounded down, never negative:
    a cache lifetime built from it cannot outlive the day."""
    left = quote_day_end(day=day) - (at or timezone.now())
    return max(0, int(left.total_seconds()))
