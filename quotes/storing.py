"""Storing quotes in bulk (`manage.py load_quotes`); reading the files is `quotes.loading`."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from quotes.models import Quote


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
