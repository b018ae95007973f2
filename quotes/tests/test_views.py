"""GET /api/quotes/today/ as a client sees it: the day's quote, its caching headers, errors."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from quotes.models import DailyQuote, Quote
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

TODAY = "/api/quotes/today/"
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    """Frozen at noon UTC; autouse, so it is in place before other fixtures build data."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_without_a_token_it_is_a_401_with_no_caching_headers(api_client):
    QuoteFactory()
    response = api_client.get(TODAY)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "ETag" not in response
    assert "max-age" not in response.get("Cache-Control", "")


def test_with_a_bad_token_it_is_a_401(api_client):
    QuoteFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = api_client.get(TODAY)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_with_no_quotes_loaded_it_is_a_404_no_quotes(alice_client):
    response = alice_client.get(TODAY)
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No quotes are available: none are loaded, or all are retired.",
        "code": "no_quotes",
    }
    assert not DailyQuote.objects.exists()


def test_with_only_retired_quotes_it_is_a_404_no_quotes(alice_client):
    QuoteFactory(is_active=False)
    assert alice_client.get(TODAY).json()["code"] == "no_quotes"


def test_quotes_loaded_after_a_404_are_served_at_once(alice_client):
    assert alice_client.get(TODAY).status_code == 404
    QuoteFactory()
    assert alice_client.get(TODAY).status_code == 200


def test_it_returns_the_quote_of_the_day(alice_client):
    quote = QuoteFactory(text="Well begun is half done.", author="Aristotle")
    response = alice_client.get(TODAY)
    assert response.status_code == 200
    assert response.json() == {
        "id": quote.pk,
        "text": "Well begun is half done.",
        "author": "Aristotle",
        "date": "2026-03-01",
    }


def test_an_unknown_author_is_null(alice_client):
    QuoteFactory(text="Begin anywhere.", author=None)
    assert alice_client.get(TODAY).json()["author"] is None


def test_every_user_sees_the_same_quote_on_a_day(client_for, alice, bob, charlie):
    QuoteFactory.create_batch(10)
    bodies = [client_for(user).get(TODAY).json() for user in (alice, bob, charlie)]
    assert bodies[0] == bodies[1] == bodies[2]


def test_the_quote_stays_the_same_all_day_when_quotes_are_loaded_mid_day(alice, client_for, clock):
    QuoteFactory.create_batch(3)
    clock.move_to(datetime(2026, 3, 1, 0, 0, 1, tzinfo=UTC))
    morning = client_for(alice).get(TODAY).json()
    clock.move_to(datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    QuoteFactory.create_batch(50)
    Quote.objects.filter(pk=morning["id"]).update(is_active=False)
    assert client_for(alice).get(TODAY).json() == morning
    clock.move_to(datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC))
    assert client_for(alice).get(TODAY).json() == morning


def test_the_day_and_its_end_follow_quotes_time_zone(alice, client_for, settings, clock):
    settings.QUOTES_TIME_ZONE = "Pacific/Kiritimati"  # UTC+14
    QuoteFactory.create_batch(5)
    clock.move_to(datetime(2026, 3, 1, 9, 59, 59, tzinfo=UTC))
    before = client_for(alice).get(TODAY)
    clock.move_to(datetime(2026, 3, 1, 10, 30, tzinfo=UTC))
    after = client_for(alice).get(TODAY)
    assert before.json()["date"] == "2026-03-01"
    assert before["Cache-Control"] == "private, max-age=1"
    assert after.json()["date"] == "2026-03-02"
    assert after.json()["id"] != before.json()["id"]
    # The next local midnight is 2026-03-02 10:00 UTC.
    assert after["Cache-Control"] == "private, max-age=84600"
    assert after["Expires"] == "Mon, 02 Mar 2026 10:00:00 GMT"


def test_caching_headers_never_outlive_the_day(alice, client_for, clock):
    QuoteFactory()
    clock.move_to(datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC))
    response = client_for(alice).get(TODAY)
    assert response["Cache-Control"] == "private, max-age=30"
    assert response["Expires"] == "Mon, 02 Mar 2026 00:00:00 GMT"
    assert response["ETag"].startswith('"2026-03-01-')


# --- ETag and 304 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "if_none_match",
    [
        "{etag}",
        "W/{etag}",
        '"something-else", {etag}',
        "*",
    ],
)
def test_a_matching_if_none_match_is_a_304_with_no_body_and_the_same_headers(alice_client, if_none_match):
    QuoteFactory()
    first = alice_client.get(TODAY)
    again = alice_client.get(TODAY, HTTP_IF_NONE_MATCH=if_none_match.format(etag=first["ETag"]))
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["Expires"] == first["Expires"]


@pytest.mark.parametrize("if_none_match", ['"2026-03-01-1-0000000000000000"', "garbage", ""])
def test_a_stale_or_malformed_if_none_match_gets_the_quote(alice_client, if_none_match):
    QuoteFactory()
    response = alice_client.get(TODAY, HTTP_IF_NONE_MATCH=if_none_match)
    assert response.status_code == 200
    assert response.json()["date"] == "2026-03-01"


def test_yesterdays_etag_gets_todays_quote(alice, client_for, clock):
    QuoteFactory.create_batch(3)
    yesterday = client_for(alice).get(TODAY)
    clock.shift(timedelta(days=1))
    today = client_for(alice).get(TODAY, HTTP_IF_NONE_MATCH=yesterday["ETag"])
    assert today.status_code == 200
    assert today.json()["id"] != yesterday.json()["id"]
    assert today["ETag"] != yesterday["ETag"]


def test_star_does_not_turn_a_404_into_a_304(alice_client):
    assert alice_client.get(TODAY, HTTP_IF_NONE_MATCH="*").status_code == 404


def test_a_typo_fixed_in_the_admin_shows_at_once_with_a_new_etag(alice_client, admin_client):
    quote = QuoteFactory(text="Well begun is haf done.", author="Aristotle")
    before = alice_client.get(TODAY)
    admin_client.post(
        f"/admin/quotes/quote/{quote.pk}/change/",
        {"text": "Well begun is half done.", "author": "Aristotle", "is_active": "on"},
    )
    after = alice_client.get(TODAY, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after.json()["text"] == "Well begun is half done."
    assert after["ETag"] != before["ETag"]


# --- Query counts ---------------------------------------------------------------------------


def test_after_the_days_first_request_serving_the_quote_costs_no_quote_query(
    alice_client, bob_client, django_assert_max_num_queries, django_assert_num_queries
):
    QuoteFactory.create_batch(100)
    # user lookup, the database check, then read, pick, record, read back
    with django_assert_max_num_queries(8):
        alice_client.get(TODAY)
    # the user lookup of JWT authentication, and one round trip to see the database answers
    with django_assert_num_queries(2):
        bob_client.get(TODAY)
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(TODAY, HTTP_IF_NONE_MATCH="*")
    assert not [query for query in queries if "quotes_" in query["sql"]]


def test_with_redis_the_days_quote_is_shared_and_costs_no_quote_query(
    redis_cache, alice_client, bob_client, django_assert_num_queries
):
    QuoteFactory.create_batch(5)
    first = alice_client.get(TODAY).json()
    keys = [key.decode() for key in redis_cache.keys("*")]
    assert any(key.endswith("quotes:daily:2026-03-01") for key in keys), keys
    [key] = [key for key in keys if key.endswith("quotes:daily:2026-03-01")]
    assert 0 < redis_cache.ttl(key) <= 12 * 3600
    with CaptureQueriesContext(connection) as queries:
        assert bob_client.get(TODAY).json() == first
    assert not [query for query in queries if "quotes_" in query["sql"]]


# --- Day after day --------------------------------------------------------------------------


def test_day_after_day_everyone_sees_one_quote_a_day_and_none_repeats_until_all_were_shown(
    alice, bob, client_for, clock
):
    quotes = QuoteFactory.create_batch(6)
    all_ids = sorted(quote.pk for quote in quotes)
    shown: list[int] = []
    clock.move_to(datetime(2026, 3, 1, 7, 15, tzinfo=UTC))
    for day in range(20):
        morning = client_for(alice).get(TODAY)
        assert morning.status_code == 200, morning.content
        assert morning.json()["date"] == (date(2026, 3, 1) + timedelta(days=day)).isoformat()
        clock.shift(timedelta(hours=9))
        # Bob, later that day: the same quote, and his cached copy is still good.
        assert client_for(bob).get(TODAY).json() == morning.json()
        assert client_for(bob).get(TODAY, HTTP_IF_NONE_MATCH=morning["ETag"]).status_code == 304
        shown.append(morning.json()["id"])
        clock.shift(timedelta(hours=15))
    assert all(today != yesterday for yesterday, today in zip(shown, shown[1:], strict=False))
    for start in range(0, 18, 6):  # three full cycles, each every quote once
        assert sorted(shown[start : start + 6]) == all_ids
    assert len(set(shown[18:])) == 2


def test_other_methods_are_not_allowed(alice_client):
    assert alice_client.post(TODAY, {}).status_code == 405


def test_the_schema_documents_the_endpoint_its_errors_and_headers(client):
    operation = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"][TODAY]["get"]
    assert {"200", "304", "401", "404"} <= set(operation["responses"])
    assert {"ETag", "Cache-Control"} <= set(operation["responses"]["200"]["headers"])
    assert "If-None-Match" in [parameter["name"] for parameter in operation["parameters"]]
