"""Django admin: ops search, filter, retire and restore quotes, and read the daily record."""

from datetime import date

import pytest

from quotes.models import Quote
from quotes.tests.factories import DailyQuoteFactory, QuoteFactory

pytestmark = pytest.mark.django_db

QUOTES = "/admin/quotes/quote/"
DAYS = "/admin/quotes/dailyquote/"


def test_quotes_are_searchable_by_text_and_author(admin_client):
    QuoteFactory(text="The obstacle is the way.", author="Marcus Aurelius")
    QuoteFactory(text="Simplicity is the ultimate sophistication.", author="Leonardo da Vinci")

    by_text = admin_client.get(QUOTES, {"q": "obstacle"}).content.decode()
    assert "The obstacle is the way." in by_text
    assert "Simplicity" not in by_text

    by_author = admin_client.get(QUOTES, {"q": "vinci"}).content.decode()
    assert "Simplicity is the ultimate sophistication." in by_author
    assert "obstacle" not in by_author


def test_quotes_can_be_filtered_by_retired(admin_client):
    QuoteFactory(text="Still in rotation.")
    QuoteFactory(text="Put out to pasture.", is_active=False)

    retired = admin_client.get(QUOTES, {"is_active__exact": "0"}).content.decode()
    assert "Put out to pasture." in retired
    assert "Still in rotation." not in retired


def test_the_retire_and_restore_actions_flip_is_active(admin_client):
    quotes = QuoteFactory.create_batch(3)
    ids = [str(quote.pk) for quote in quotes[:2]]

    admin_client.post(QUOTES, {"action": "retire", "_selected_action": ids})
    assert set(Quote.objects.filter(is_active=False).values_list("pk", flat=True)) == {
        quotes[0].pk,
        quotes[1].pk,
    }

    admin_client.post(QUOTES, {"action": "restore", "_selected_action": ids[:1]})
    assert list(Quote.objects.filter(is_active=False).values_list("pk", flat=True)) == [quotes[1].pk]


def test_adding_a_quote_in_the_admin_refuses_a_duplicate(admin_client):
    QuoteFactory(text="Stay curious.", author=None)
    form = {"text": "  Stay curious. ", "author": "", "is_active": "on"}
    response = admin_client.post(f"{QUOTES}add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "already exists" in response.content.decode()
    assert Quote.objects.count() == 1


def test_the_daily_record_is_listed_but_read_only(admin_client):
    day = DailyQuoteFactory(date=date(2026, 3, 1), quote__text="Begin anywhere.")

    listing = admin_client.get(DAYS)
    assert listing.status_code == 200
    assert "Begin anywhere." in listing.content.decode()

    assert admin_client.get(f"{DAYS}add/").status_code == 403
    assert admin_client.post(f"{DAYS}{day.pk}/delete/", {"post": "yes"}).status_code == 403
    detail = admin_client.post(f"{DAYS}{day.pk}/change/", {"date": "2026-03-02", "cycle": 9})
    assert detail.status_code == 403
    day.refresh_from_db()
    assert (day.date, day.cycle) == (date(2026, 3, 1), 1)
