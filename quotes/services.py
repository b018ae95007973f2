"""The quote of the day: which quote a calendar day shows, picked once and recorded."""

import random
from datetime import date

from rest_framework import status

from focusflow.api.exceptions import DomainError
from quotes.models import DailyQuote, Quote

# A handful is plenty: another attempt is only needed when a concurrent writer changed the
# cycle between our read and our insert.
_PICK_ATTEMPTS = 5


class NoQuotes(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No quotes are available: none are loaded, or all are retired."
    default_code = "no_quotes"


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
