"""What the database itself holds true about quotes and the day-by-day record."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from quotes.models import DailyQuote, Quote
from quotes.tests.factories import DailyQuoteFactory, QuoteFactory

pytestmark = pytest.mark.django_db


def test_saving_a_quote_strips_whitespace_and_stores_a_blank_author_as_null():
    quote = Quote.objects.create(text="  Stay curious.\n", author="   ")
    quote.refresh_from_db()
    assert quote.text == "Stay curious."
    assert quote.author is None


def test_the_same_text_and_author_cannot_be_stored_twice():
    Quote.objects.create(text="Stay curious.", author="Anon")
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.create(text="Stay curious.", author="Anon")


def test_the_same_text_without_an_author_cannot_be_stored_twice_either():
    # A plain unique constraint would let both in, NULLs being distinct.
    Quote.objects.create(text="Stay curious.", author=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.create(text="Stay curious.", author=None)


def test_the_same_text_by_different_authors_is_two_quotes():
    Quote.objects.create(text="Stay curious.", author="Anon")
    Quote.objects.create(text="Stay curious.", author="Someone Else")
    Quote.objects.create(text="Stay curious.", author=None)
    assert Quote.objects.count() == 3


@pytest.mark.parametrize("fields", [{"text": ""}, {"author": ""}])
def test_blank_text_or_an_empty_author_string_is_refused_by_the_database(fields):
    values = {"text": "Stay curious.", "author": "Anon", **fields}
    # bulk_create skips save(), as any raw write would.
    with pytest.raises(IntegrityError), transaction.atomic():
        Quote.objects.bulk_create([Quote(**values)])


def test_a_date_has_one_quote_of_the_day_only():
    DailyQuoteFactory(date=date(2026, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyQuoteFactory(date=date(2026, 3, 1))


def test_a_quote_is_shown_at_most_once_per_cycle():
    quote = QuoteFactory()
    DailyQuoteFactory(date=date(2026, 3, 1), quote=quote, cycle=1)
    DailyQuoteFactory(date=date(2026, 3, 5), quote=quote, cycle=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyQuoteFactory(date=date(2026, 3, 9), quote=quote, cycle=2)


def test_a_quote_that_was_served_cannot_be_deleted_only_retired():
    served = DailyQuoteFactory().quote
    with pytest.raises(ProtectedError):
        served.delete()
    assert DailyQuote.objects.filter(quote=served).exists()
