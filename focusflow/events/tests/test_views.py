"""`GET /api/events/` and `POST /api/events/ticket/` as the test client sees them: who may open
a stream, with which cursor, and tickets. The streams themselves run through uvicorn
(test_live.py); this client is WSGI, which holds no stream."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from focusflow.events.models import EventTicket
from focusflow.events.tickets import event_ticket_spend
from focusflow.sync.feed import SyncCursor, cursor_encode
from focusflow.testing import access_token_for, all_at_once, bearer
from users.tokens import refresh_token_for, token_family_revoke

pytestmark = pytest.mark.django_db

EVENTS = "/api/events/"
TICKET = "/api/events/ticket/"


def test_a_stream_needs_a_token_or_a_ticket(api_client):
    response = api_client.get(EVENTS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("ticket", ["nope", "", "x" * 101, "é" * 43])
def test_an_unknown_ticket_is_a_401_even_with_a_good_token(api_client, alice, ticket):
    response = api_client.get(EVENTS, {"ticket": ticket}, HTTP_AUTHORIZATION=bearer(alice))
    assert response.status_code == 401
    assert response.json()["code"] == "ticket_not_valid"


def test_head_is_not_a_way_to_hold_a_stream(alice_client):
    assert alice_client.head(EVENTS).status_code == 405


def test_an_error_is_json_even_to_an_eventsource(api_client):
    response = api_client.get(EVENTS, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"


def test_a_wsgi_server_says_the_stream_is_served_elsewhere(alice_client):
    response = alice_client.get(EVENTS)
    assert response.status_code == 421
    assert response.json()["code"] == "events_not_served_here"


@pytest.mark.parametrize("cursor", ["garbage", "eyJ1IjoxfQ:1abc:def"])
def test_a_malformed_cursor_or_last_event_id_is_a_400_on_cursor(alice_client, cursor):
    for response in (
        alice_client.get(EVENTS, {"cursor": cursor}),
        alice_client.get(EVENTS, HTTP_LAST_EVENT_ID=cursor),
    ):
        assert response.status_code == 400
        assert list(response.json()) == ["cursor"]


def test_the_cursor_wins_over_last_event_id(alice_client, alice):
    good = cursor_encode(user=alice, cursor=SyncCursor(seq=0, chain_start=0))
    assert alice_client.get(EVENTS, {"cursor": "garbage"}, HTTP_LAST_EVENT_ID=good).status_code == 400
    assert alice_client.get(EVENTS, {"cursor": good}, HTTP_LAST_EVENT_ID="garbage").status_code == 421


def test_another_accounts_cursor_is_a_400(alice_client, bob):
    bobs = cursor_encode(user=bob, cursor=SyncCursor(seq=0, chain_start=0))
    assert alice_client.get(EVENTS, {"cursor": bobs}).status_code == 400


def test_a_cursor_behind_purged_deletions_gets_a_reset_event_and_the_stream_ends(alice_client, alice):
    type(alice).objects.filter(pk=alice.pk).update(sync_seq=10, sync_purged_seq=5)
    old = cursor_encode(user=alice, cursor=SyncCursor(seq=2, chain_start=0))
    response = alice_client.get(EVENTS, {"cursor": old})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert b"".join(response.streaming_content) == (
        b'event: reset\ndata: {"detail":"Sync again without a cursor."}\n\n'
    )


def test_a_ticket_is_bought_with_an_access_token_and_stored_as_a_hash(alice_client, alice):
    response = alice_client.post(TICKET)
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 60
    stored = EventTicket.objects.get()
    assert stored.user == alice
    assert body["ticket"] not in stored.digest
    assert stored.expires_at - timezone.now() == pytest.approx(
        timedelta(seconds=60), abs=timedelta(seconds=5)
    )


def test_a_ticket_needs_a_token(api_client):
    assert api_client.post(TICKET).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_ticket_is_spent_once_even_by_racing_uses(alice_client):
    ticket = alice_client.post(TICKET).json()["ticket"]
    spent = all_at_once(lambda _: event_ticket_spend(ticket), 8)
    assert sum(credential is not None for credential in spent) == 1


def test_an_expired_ticket_is_refused(alice_client, api_client, time_machine):
    ticket = alice_client.post(TICKET).json()["ticket"]
    time_machine.move_to(timezone.now() + timedelta(seconds=61))
    assert api_client.get(EVENTS, {"ticket": ticket}).json()["code"] == "ticket_not_valid"


def test_a_ticket_dies_with_its_login(alice, api_client):
    refresh = refresh_token_for(alice)
    ticket = api_client.post(TICKET, HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}").json()["ticket"]
    token_family_revoke(user=alice, family=refresh["fam"])
    response = api_client.get(EVENTS, {"ticket": ticket})
    assert response.status_code == 401
    assert response.json()["code"] == "ticket_not_valid"


def test_a_ticket_dies_with_its_password(alice, api_client):
    ticket = api_client.post(TICKET, HTTP_AUTHORIZATION=bearer(alice)).json()["ticket"]
    alice.set_password("a-whole-new-passphrase")
    alice.save()
    assert api_client.get(EVENTS, {"ticket": ticket}).status_code == 401


def test_a_server_that_cannot_stream_does_not_spend_the_ticket(alice_client, api_client):
    ticket = alice_client.post(TICKET).json()["ticket"]
    assert api_client.get(EVENTS, {"ticket": ticket}).json()["code"] == "events_not_served_here"  # WSGI
    assert api_client.head(EVENTS, {"ticket": ticket}).status_code in (401, 405)  # never a stream
    assert EventTicket.objects.count() == 1


def test_a_ticket_lives_no_longer_than_the_token_that_bought_it(alice, api_client):
    token = access_token_for(alice)
    token.set_exp(lifetime=timedelta(seconds=20))
    body = api_client.post(TICKET, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["expires_in"] in (19, 20)


def test_unused_tickets_are_purged_once_expired(alice_client, time_machine):
    alice_client.post(TICKET)
    call_command("purge_event_tickets")
    assert EventTicket.objects.count() == 1
    time_machine.move_to(timezone.now() + timedelta(seconds=61))
    alice_client.post(TICKET)
    call_command("purge_event_tickets")
    assert EventTicket.objects.count() == 1
