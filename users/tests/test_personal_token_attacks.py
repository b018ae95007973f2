"""Attacks on personal access tokens that found bugs (a helper's review): each test states what
the contract promises, and its docstring the way it was broken."""

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

import focusflow.events.tickets as tickets
from focusflow.api.scopes import SCOPES
from focusflow.testing import UserClient
from users.models import PersonalAccessToken, User
from users.tests.test_personal_tokens import ME, TOKENS, as_token, make

pytestmark = pytest.mark.django_db

# --- A token dies on any password change ------------------------------------------------------


def test_an_admin_disabling_the_password_ends_every_token_and_its_tickets(
    admin_client, alice_client, alice, api_client
):
    """Django 5.1+'s admin "Password-based authentication: Disabled" calls
    `set_unusable_password()`, not `set_password`: `User.save` must see a new password in it."""
    made = make(alice_client, scopes=list(SCOPES))
    client = as_token(api_client, made["token"])
    ticket = client.post("/api/events/ticket/").json()["ticket"]
    response = admin_client.post(
        f"/admin/users/user/{alice.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=alice.pk).has_usable_password()
    assert alice_client.get(ME).status_code == 401  # the login ended with the new hash
    assert client.get(ME).status_code == 401  # ...and so must the token
    assert not PersonalAccessToken.objects.filter(pk=made["id"]).exists()
    # A ticket the token bought before is refused too (421: accepted, on a WSGI server).
    assert APIClient().get("/api/events/", {"ticket": ticket}).status_code == 401


# --- Never a 500 ------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [4301, 5000])
def test_deleting_a_token_whose_id_has_thousands_of_digits_is_a_404(alice, digits):
    """`int()` refuses more than 4300 digits (ValueError): ids in URLs are at most 19 digits
    (focusflow.api.viewsets.ID_PATTERN). Such a URL fits the servers' limits (gunicorn
    limit_request_line 8190, nginx 8k)."""
    client = UserClient(alice, raise_request_exception=False)
    response = client.delete(f"{TOKENS}{'9' * digits}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_token_deleted_while_it_buys_an_events_ticket_gets_a_401_not_a_500(alice_client, monkeypatch):
    """The token authenticates, its owner deletes it (or changes the password) before the
    ticket's row is written: the ticket's foreign key to the token fails (IntegrityError),
    which is the 401 the token would now get."""
    made = make(alice_client, scopes=[])
    original = tickets.datetime_from_epoch

    def revoked_meanwhile(value):
        PersonalAccessToken.objects.filter(pk=made["id"]).delete()  # the owner's DELETE, committed
        return original(value)

    monkeypatch.setattr(tickets, "datetime_from_epoch", revoked_meanwhile)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {made['token']}")
    response = client.post("/api/events/ticket/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- Housekeeping -----------------------------------------------------------------------------


def test_purging_expired_tokens_reports_how_many_tokens_went(alice_client, api_client):
    """`QuerySet.delete()`'s total counts the cascade too (the events tickets the tokens
    bought): the count is of tokens only."""
    made = make(alice_client, scopes=[], expires_in_days=1)
    client = as_token(api_client, made["token"])
    for _ in range(2):
        assert client.post("/api/events/ticket/").status_code == 201
    out = StringIO()
    later = timezone.now() + timezone.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        call_command("purge_personal_tokens", stdout=out)
    assert not PersonalAccessToken.objects.exists()
    assert out.getvalue().strip() == "Deleted 1 expired personal access tokens."
