"""The quote of the day as clients see it, served from the shared cache."""

from datetime import date
from typing import TypedDict

from django.core.cache import cache

from quotes.calendar import seconds_left_in_day
from quotes.services import daily_quote_for


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
