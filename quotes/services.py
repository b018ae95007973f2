"""The quote of the day: which quote a calendar day shows, and loading quotes in bulk."""

import random
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from focusflow.exceptions import DomainError
from quotes.models import DailyQuote, Quote

# A handful is plenty: another attempt is only needed when a concurrent writer changed the
# cycle between our read and our insert.
_PICK_ATTEMPTS = 5


class NoQuotes(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No quotes are available: none are loaded, or all are retired."
    default_code = "no_quotes"


# --- Calendar -------------------------------------------------------------------------------


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


# --- Selection ------------------------------------------------------------------------------


def _pick(*, day: date) -> tuple[int, int] | None:
    """(cycle, quote id) for a day that has no quote yet, or None when no quote is active.

    The cycle is the one of the latest day before `day`. Candidates are the active quotes not
    yet shown in that cycle, by id; the date seeds the random choice among them, so the pick is
    reproducible. When the cycle is used up, the next cycle starts with every active quote
    except the one shown last (unless it is the only one), so a cycle boundary never shows the
    same quote two days running. One query for the active ids, one per cycle looked at (one or
    two when days move forward), ids only: O(number of quotes).
    """
    previous = DailyQuote.objects.filter(date__lt=day).order_by("-date").values("cycle", "quote_id").first()
    active = list(Quote.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    if not active:
        return None
    cycle = previous["cycle"] if previous else 1
    starts_new_cycle = False
    while True:
        shown = set(DailyQuote.objects.filter(cycle=cycle).order_by().values_list("quote_id", flat=True))
        candidates = [pk for pk in active if pk not in shown]
        if starts_new_cycle and previous is not None and len(candidates) > 1:
            candidates = [pk for pk in candidates if pk != previous["quote_id"]]
        if candidates:
            return cycle, random.Random(day.isoformat()).choice(candidates)
        # Every active quote was shown in this cycle. Forward in time the next cycle is
        # empty; only a day filled in behind later days can meet a next cycle in progress.
        cycle += 1
        starts_new_cycle = True


def daily_quote_for(*, day: date) -> DailyQuote:
    """The quote of `day`, picking and recording it if this is the day's first request.

    Once recorded, a day never changes: quotes added, loaded or retired later that day do not
    move it. Several app servers asking at once each compute the pick and insert it with ON
    CONFLICT DO NOTHING; the unique date lets exactly one row in, and everyone returns that
    row. Days nobody asked for get no row and are simply skipped.
    """
    for _ in range(_PICK_ATTEMPTS):
        recorded = DailyQuote.objects.select_related("quote").filter(date=day).first()
        if recorded is not None:
            return recorded
        picked = _pick(day=day)
        if picked is None:
            raise NoQuotes()
        cycle, quote_id = picked
        # Conflicts are ignored, not raised: losing the race on the date (or on the
        # once-per-cycle rule) just means reading what the winner wrote, or picking again.
        DailyQuote.objects.bulk_create(
            [DailyQuote(date=day, quote_id=quote_id, cycle=cycle)], ignore_conflicts=True
        )
    raise RuntimeError(f"Could not record the quote of {day} after {_PICK_ATTEMPTS} attempts")


class TodayQuote(TypedDict):
    """What clients see: the quote of a day (`id` is the quote's id)."""

    id: int
    text: str
    author: str | None
    date: date


def _cache_key(day: date) -> str:
    return f"quotes:daily:{day.isoformat()}"


def daily_quote_payload(*, day: date) -> TodayQuote:
    """The quote of `day` as clients see it, from the cache after the day's first request.

    The cache (Redis when REDIS_URL is set, so shared by every app server) keeps it until the
    day ends in QUOTES_TIME_ZONE, so serving it costs no quote query. No negative caching: a
    "no quotes" answer is re-checked on every request, so a freshly loaded file shows at once.
    """
    key = _cache_key(day)
    payload = cache.get(key)
    if payload is None:
        recorded = daily_quote_for(day=day)
        payload = TodayQuote(
            id=recorded.quote_id, text=recorded.quote.text, author=recorded.quote.author, date=day
        )
        timeout = seconds_left_in_day(day=day)
        if timeout > 0:
            cache.set(key, payload, timeout=timeout)
    return payload


def daily_quote_forget(*, day: date) -> None:
    """Drop the cached quote of `day`, so an edit of its text (a typo fix) shows at once."""
    cache.delete(_cache_key(day))


# --- Loading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotesLoadResult:
    created: int
    skipped: int


def quotes_load(
    *,
    quotes: Sequence[tuple[str, str | None]],
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> QuotesLoadResult:
    """Store the (text, author) pairs that are not stored yet, all or nothing.

    Pairs must already be valid and normalised (stripped, blank author as None); the same pair
    given twice, or already in the database, is skipped. Existing pairs are fetched in one
    query and new ones inserted `batch_size` rows per INSERT, inside one transaction, so a
    100,000-quote file costs about a hundred queries. `ignore_conflicts` lets a quote that a
    concurrent writer (the admin, another load) stored meanwhile be skipped rather than fail
    the load; the created count then includes it. `progress(done, total)` follows the inserts.
    """
    unique = list(dict.fromkeys(quotes))  # first occurrence wins, the file's order is kept
    with transaction.atomic():
        stored = set(Quote.objects.order_by().values_list("text", "author"))
        new = [pair for pair in unique if pair not in stored]
        if not dry_run:
            stamp = timezone.now()
            for start in range(0, len(new), batch_size):
                batch = new[start : start + batch_size]
                Quote.objects.bulk_create(
                    [Quote(text=text, author=author, created_at=stamp) for text, author in batch],
                    ignore_conflicts=True,
                )
                if progress is not None:
                    progress(start + len(batch), len(new))
    return QuotesLoadResult(created=len(new), skipped=len(quotes) - len(new))
