"""Which quote a day shows: date-seeded, fixed once served, no repeat within a cycle."""

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from focusflow.testing import all_at_once
from quotes import services
from quotes.calendar import quote_day, seconds_left_in_day
from quotes.models import DailyQuote, Quote
from quotes.selectors import daily_quote_payload
from quotes.services import NoQuotes, daily_quote_for
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

START = date(2026, 3, 1)


def days(count: int, start: date = START) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]


def shown_on(dates: list[date]) -> list[int]:
    return [daily_quote_for(day=day).quote_id for day in dates]


def test_a_day_is_recorded_once_and_asking_again_returns_the_same_quote():
    QuoteFactory.create_batch(5)
    first = daily_quote_for(day=START)
    again = daily_quote_for(day=START)
    assert again.pk == first.pk
    assert again.quote_id == first.quote_id
    assert DailyQuote.objects.count() == 1


def test_the_pick_uses_the_date_as_the_random_seed():
    ids = sorted(quote.pk for quote in QuoteFactory.create_batch(9))
    expected = random.Random("2026-03-01").choice(ids)
    assert daily_quote_for(day=START).quote_id == expected


def test_the_pick_is_reproducible_for_the_same_date_and_quotes():
    QuoteFactory.create_batch(9)
    picks = set()
    for _ in range(3):
        picks.add(daily_quote_for(day=START).quote_id)
        DailyQuote.objects.all().delete()
    assert len(picks) == 1


def test_a_days_quote_stays_fixed_when_quotes_arrive_or_it_is_retired_later_that_day():
    QuoteFactory.create_batch(3)
    served = daily_quote_for(day=START).quote
    QuoteFactory.create_batch(20)
    # Retired after being served: a fresh pick could never return it, the record must.
    Quote.objects.filter(pk=served.pk).update(is_active=False)
    cache.clear()
    assert daily_quote_for(day=START).quote_id == served.pk
    assert daily_quote_payload(day=START)["id"] == served.pk


def test_a_cycle_over_n_quotes_shows_n_different_quotes():
    quotes = QuoteFactory.create_batch(7)
    shown = shown_on(days(7))
    assert sorted(shown) == sorted(quote.pk for quote in quotes)
    assert set(DailyQuote.objects.values_list("cycle", flat=True)) == {1}


def test_the_next_cycle_again_shows_every_quote_once():
    quotes = QuoteFactory.create_batch(5)
    shown = shown_on(days(10))
    assert sorted(shown[:5]) == sorted(shown[5:]) == sorted(quote.pk for quote in quotes)
    assert list(DailyQuote.objects.order_by("date").values_list("cycle", flat=True)) == [1] * 5 + [2] * 5


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_cycle_boundary_never_shows_the_previous_days_quote_again(count):
    # Many boundaries with few quotes: a new cycle drawing from every quote would start with
    # yesterday's quote about once in `count` boundaries.
    QuoteFactory.create_batch(count)
    shown = shown_on(days(count * 25))
    assert all(today != yesterday for yesterday, today in zip(shown, shown[1:], strict=False))
    for start in range(0, len(shown), count):
        assert len(set(shown[start : start + count])) == count


def test_with_a_single_quote_it_is_shown_every_day():
    only = QuoteFactory()
    assert shown_on(days(4)) == [only.pk] * 4
    assert list(DailyQuote.objects.order_by("date").values_list("cycle", flat=True)) == [1, 2, 3, 4]


def test_retired_quotes_are_never_picked():
    quotes = QuoteFactory.create_batch(10)
    retired = {quote.pk for quote in quotes[:4]}
    Quote.objects.filter(pk__in=retired).update(is_active=False)
    shown = shown_on(days(30))
    assert not retired & set(shown)
    assert set(shown) == {quote.pk for quote in quotes[4:]}


def test_a_quote_retired_mid_cycle_drops_out_and_a_restored_one_comes_back():
    a, b, c = QuoteFactory.create_batch(3)
    first = daily_quote_for(day=START).quote_id
    unseen = [quote for quote in (a, b, c) if quote.pk != first]
    Quote.objects.filter(pk=unseen[0].pk).update(is_active=False)
    assert daily_quote_for(day=START + timedelta(days=1)).quote_id == unseen[1].pk
    Quote.objects.filter(pk=unseen[0].pk).update(is_active=True)
    assert daily_quote_for(day=START + timedelta(days=2)).quote_id == unseen[0].pk


def test_quotes_added_mid_cycle_join_it_so_nothing_repeats_until_all_were_shown():
    QuoteFactory.create_batch(3)
    shown = shown_on(days(1))
    QuoteFactory.create_batch(2)
    shown += shown_on(days(4, start=START + timedelta(days=1)))
    assert sorted(shown) == sorted(Quote.objects.values_list("pk", flat=True))
    assert DailyQuote.objects.filter(cycle=1).count() == 5


def test_days_nobody_asked_for_are_skipped_and_the_cycle_goes_on():
    QuoteFactory.create_batch(3)
    first = daily_quote_for(day=START)
    later = daily_quote_for(day=START + timedelta(days=10))
    assert list(DailyQuote.objects.order_by("date").values_list("date", flat=True)) == [
        START,
        START + timedelta(days=10),
    ]
    assert later.quote_id != first.quote_id
    assert later.cycle == first.cycle == 1


def test_a_skipped_day_asked_for_after_later_days_still_never_repeats_within_a_cycle():
    # Only when app servers' clocks disagree around midnight: a day filled in behind later ones.
    QuoteFactory.create_batch(3)
    shown_on(days(3, start=START + timedelta(days=1)))  # cycle 1 is used up
    behind = daily_quote_for(day=START)
    assert behind.cycle == 2
    after = daily_quote_for(day=START + timedelta(days=4))
    assert after.cycle == 2
    assert after.quote_id != behind.quote_id


def test_no_quotes_at_all_is_no_quotes():
    with pytest.raises(NoQuotes) as raised:
        daily_quote_for(day=START)
    assert raised.value.get_codes() == "no_quotes"
    assert raised.value.status_code == 404
    assert not DailyQuote.objects.exists()


def test_only_retired_quotes_is_no_quotes_for_a_new_day_but_a_served_day_keeps_its_quote():
    QuoteFactory.create_batch(2)
    served = daily_quote_for(day=START)
    Quote.objects.update(is_active=False)
    assert daily_quote_for(day=START).quote_id == served.quote_id
    with pytest.raises(NoQuotes):
        daily_quote_for(day=START + timedelta(days=1))


def test_the_days_payload_is_served_from_the_cache_after_the_first_request(django_assert_num_queries):
    QuoteFactory(text="Begin anywhere.", author="John Cage")
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        first = daily_quote_payload(day=START)
        with django_assert_num_queries(0):
            again = daily_quote_payload(day=START)
    assert again == first
    assert first["text"] == "Begin anywhere."
    assert first["author"] == "John Cage"
    assert first["date"] == START


def test_the_cached_payload_expires_when_the_day_ends():
    QuoteFactory()
    with time_machine.travel(datetime(2026, 3, 1, 23, 59, 0, tzinfo=UTC), tick=False) as clock:
        daily_quote_payload(day=START)
        assert cache.get("quotes:daily:2026-03-01") is not None
        clock.move_to(datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC))
        assert cache.get("quotes:daily:2026-03-01") is None


# --- The calendar day -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "utc", "expected"),
    [
        ("UTC", datetime(2026, 3, 1, 10, 30), date(2026, 3, 1)),
        ("Pacific/Kiritimati", datetime(2026, 3, 1, 10, 30), date(2026, 3, 2)),  # UTC+14
        ("America/Los_Angeles", datetime(2026, 3, 2, 5, 0), date(2026, 3, 1)),  # UTC-8
        ("Pacific/Kiritimati", datetime(2026, 3, 1, 9, 59, 59), date(2026, 3, 1)),  # 23:59:59
    ],
)
def test_the_day_follows_quotes_time_zone(settings, zone, utc, expected):
    settings.QUOTES_TIME_ZONE = zone
    with time_machine.travel(utc.replace(tzinfo=UTC), tick=False):
        assert quote_day() == expected


@pytest.mark.parametrize(
    ("zone", "utc", "day", "seconds"),
    [
        ("UTC", datetime(2026, 3, 1, 23, 59, 30), date(2026, 3, 1), 30),
        ("UTC", datetime(2026, 3, 1, 0, 0, 0), date(2026, 3, 1), 86400),
        ("Pacific/Kiritimati", datetime(2026, 3, 1, 10, 30), date(2026, 3, 2), 84600),
        # Paris springs forward on 2026-03-29: that day has 23 hours.
        ("Europe/Paris", datetime(2026, 3, 28, 23, 0), date(2026, 3, 29), 23 * 3600),
        # ...and falls back on 2026-10-25: 25 hours.
        ("Europe/Paris", datetime(2026, 10, 24, 22, 0), date(2026, 10, 25), 25 * 3600),
        # Past the end (a request that began just before midnight): never negative.
        ("UTC", datetime(2026, 3, 2, 0, 0, 5), date(2026, 3, 1), 0),
    ],
)
def test_seconds_left_in_the_day_end_at_local_midnight(settings, zone, utc, day, seconds):
    settings.QUOTES_TIME_ZONE = zone
    with time_machine.travel(utc.replace(tzinfo=UTC), tick=False):
        assert seconds_left_in_day(day=day) == seconds


# --- Races ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_agree_and_record_the_day_once(monkeypatch):
    QuoteFactory.create_batch(20)
    racers = 8
    # Everyone reads "no quote yet" and picks before anyone inserts: the worst interleaving.
    all_picked = threading.Barrier(racers, timeout=10)
    real_pick = services._pick

    def pick_then_wait(*, day):
        picked = real_pick(day=day)
        all_picked.wait()
        return picked

    monkeypatch.setattr(services, "_pick", pick_then_wait)
    results = all_at_once(lambda _: daily_quote_for(day=START).quote_id, racers)
    assert len(set(results)) == 1
    assert list(DailyQuote.objects.values_list("date", "quote_id")) == [(START, results[0])]


@pytest.mark.django_db(transaction=True)
def test_when_app_servers_pick_different_quotes_at_once_the_database_decides(monkeypatch):
    # As if a quote file was loaded at that very instant and each server saw a different set.
    quotes = QuoteFactory.create_batch(6)
    racers = 6
    all_picked = threading.Barrier(racers, timeout=10)
    racer = threading.local()

    def divergent_pick(*, day):
        all_picked.wait()
        return 1, quotes[racer.index].pk

    def first_request(index: int) -> int:
        racer.index = index
        return daily_quote_for(day=START).quote_id

    monkeypatch.setattr(services, "_pick", divergent_pick)
    results = all_at_once(first_request, racers)
    assert DailyQuote.objects.count() == 1
    assert results == [DailyQuote.objects.get().quote_id] * racers
