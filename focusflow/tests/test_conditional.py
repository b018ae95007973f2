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


BAD_BODIES = {
    "PUT journal": {},
    "PATCH journal": {"content": ""},
    "PATCH session": {"label": "x" * 101},
    "POST pause": {"at": "garbage"},
    "POST stop": {"at": "1999-01-01T00:00Z"},
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_a_failed_precondition_answers_before_a_bad_body(alice_client, alice, name):
    """RFC 9110 evaluates preconditions before the request's content: a stale version is the
    412 even when the body is wrong too."""
    method, kind = name.split()
    with at(0):
        journal = JournalFactory(user=alice, version=2)
        stopped = FocusSessionFactory(user=alice, version=2)
        FocusSessionFactory(user=alice, version=2, active=True)
        url = {
            "journal": f"/api/journals/{journal.pk}/",
            "session": f"/api/sessions/{stopped.pk}/",
            "pause": "/api/sessions/pause/",
            "stop": "/api/sessions/stop/",
        }[kind]
        send = getattr(alice_client, method.lower())
        stale = send(url, BAD_BODIES[name], HTTP_IF_MATCH='"1"')
        current = send(url, BAD_BODIES[name], HTTP_IF_MATCH='"2"')
    assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")
    assert current.status_code == 400


def test_the_active_session_has_an_etag_and_honours_the_preconditions(alice_client, alice):
    with at(0):
        started = alice_client.post("/api/sessions/start/")
        assert started["ETag"] == '"1"'
        active = alice_client.get("/api/sessions/active/")
        assert active["ETag"] == '"1"'
        assert alice_client.get("/api/sessions/active/", HTTP_IF_NONE_MATCH='"1"').status_code == 304
        stale = alice_client.get("/api/sessions/active/", HTTP_IF_MATCH='"0"')
        paused = alice_client.post("/api/sessions/pause/")
    assert (stale.status_code, stale.json()["current"]["version"]) == (412, 1)
    assert paused["ETag"] == '"2"'
