"""`If-Match` is compared one way on every method that takes it (contract v1.1 "Edges"):
strongly, `*` and lists as RFC 9110 says, and every failure is the JSON 412 `version_conflict`
with the current object, reads included."""

import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import at
from journals.tests.factories import JournalFactory

pytestmark = pytest.mark.django_db

MATCHING = ['"2"', '"7", "2"', ' "2" ', "*"]
FAILING = ['W/"2"', "2", "garbage", '"1"', '""', "", 'W/"2", "7"', '"2']


def _requests(user):
    """(name, how to send it with an If-Match header) for every method that takes one, on
    objects at version 2."""
    journal = JournalFactory(user=user, version=2)
    stopped = FocusSessionFactory(user=user, version=2)
    running = FocusSessionFactory(user=user, version=2, active=True)
    journal_url, session_url = f"/api/journals/{journal.pk}/", f"/api/sessions/{stopped.pk}/"
    return {
        "GET journal": lambda c, h: c.get(journal_url, HTTP_IF_MATCH=h),
        "PUT journal": lambda c, h: c.put(journal_url, {"content": "x"}, HTTP_IF_MATCH=h),
        "PATCH journal": lambda c, h: c.patch(journal_url, {"content": "x"}, HTTP_IF_MATCH=h),
        "DELETE journal": lambda c, h: c.delete(journal_url, HTTP_IF_MATCH=h),
        "GET session": lambda c, h: c.get(session_url, HTTP_IF_MATCH=h),
        "PATCH session": lambda c, h: c.patch(session_url, {"label": "x"}, HTTP_IF_MATCH=h),
        "DELETE session": lambda c, h: c.delete(session_url, HTTP_IF_MATCH=h),
        "POST pause": lambda c, h: c.post("/api/sessions/pause/", HTTP_IF_MATCH=h),
        "POST stop": lambda c, h: c.post("/api/sessions/stop/", HTTP_IF_MATCH=h),
    }, running


REQUESTS = [
    "GET journal",
    "PUT journal",
    "PATCH journal",
    "DELETE journal",
    "GET session",
    "PATCH session",
    "DELETE session",
    "POST pause",
    "POST stop",
]


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("header", MATCHING)
def test_if_match_with_the_current_version_lets_every_method_act(alice_client, alice, name, header):
    with at(0):
        requests, _ = _requests(alice)
        response = requests[name](alice_client, header)
    assert response.status_code in (200, 204), response.content


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("header", FAILING)
def test_anything_else_is_the_json_412_with_the_current_object_on_every_method(
    alice_client, alice, name, header
):
    with at(0):
        requests, running = _requests(alice)
        response = requests[name](alice_client, header)
    assert response.status_code == 412, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "version_conflict"
    assert body["current"]["version"] == 2
    running.refresh_from_db()
    assert (running.version, running.is_active, running.paused_at) == (2, True, None)  # nothing changed


def test_a_read_checks_if_match_before_if_none_match(alice_client, alice):
    journal = JournalFactory(user=alice, version=2)
    url = f"/api/journals/{journal.pk}/"
    assert alice_client.get(url, HTTP_IF_MATCH='"2"', HTTP_IF_NONE_MATCH='"2"').status_code == 304
    assert alice_client.get(url, HTTP_IF_MATCH='"1"', HTTP_IF_NONE_MATCH='"2"').status_code == 412
    # If-None-Match is a cache's comparison: weak.
    assert alice_client.get(url, HTTP_IF_NONE_MATCH='W/"2"').status_code == 304
    assert alice_client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert alice_client.get(url, HTTP_IF_NONE_MATCH='"1"').status_code == 200
