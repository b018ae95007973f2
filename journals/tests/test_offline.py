"""Journals on several devices: versions with If-Match, client ids (contract v1.1)."""

import uuid

import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import streamed_json
from journals.models import Journal
from journals.tests.factories import JournalFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/journals/create/"


def one(journal_or_id) -> str:
    return f"/api/journals/{getattr(journal_or_id, 'pk', journal_or_id)}/"


def test_a_journal_carries_its_version_as_etag_and_each_edit_bumps_it(alice_client, alice):
    created = alice_client.post(CREATE, {"content": "first"}).json()
    assert (created["version"], created["client_id"]) == (1, None)
    assert alice_client.get(one(created["id"]))["ETag"] == '"1"'
    edited = alice_client.patch(one(created["id"]), {"content": "second"})
    assert (edited.json()["version"], edited["ETag"]) == (2, '"2"')
    rewritten = alice_client.put(one(created["id"]), {"content": "third"}, HTTP_IF_MATCH='"2"')
    assert (rewritten.status_code, rewritten.json()["version"]) == (200, 3)
    assert alice_client.get(one(created["id"]), HTTP_IF_NONE_MATCH='"3"').status_code == 304


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_edit_with_a_stale_version_is_a_412_with_the_current_journal(alice_client, alice, method):
    journal = JournalFactory(user=alice, content="phone", version=4)
    response = getattr(alice_client, method)(one(journal), {"content": "laptop"}, HTTP_IF_MATCH='"3"')
    assert response.status_code == 412
    assert response.json()["code"] == "version_conflict"
    assert (response.json()["current"]["content"], response.json()["current"]["version"]) == ("phone", 4)
    journal.refresh_from_db()
    assert (journal.content, journal.version) == ("phone", 4)


def test_a_delete_with_a_stale_version_is_a_412_and_deletes_nothing(alice_client, alice):
    journal = JournalFactory(user=alice, version=2)
    assert alice_client.delete(one(journal), HTTP_IF_MATCH='"1"').status_code == 412
    assert Journal.objects.filter(pk=journal.pk).exists()
    assert alice_client.delete(one(journal), HTTP_IF_MATCH='"2"').status_code == 204


def test_locked_and_not_found_answer_before_any_precondition(alice_client, bob_client, alice):
    tied = JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    free = JournalFactory(user=alice)
    assert alice_client.patch(one(tied), {"content": "x"}, HTTP_IF_MATCH='"9"').status_code == 403
    assert bob_client.patch(one(free), {"content": "x"}, HTTP_IF_MATCH='"9"').status_code == 404
    assert bob_client.delete(one(free), HTTP_IF_MATCH='"1"').status_code == 404
    assert bob_client.get(one(free)).status_code == 404


def test_a_stale_version_answers_before_a_validation_error(alice_client, alice):
    """RFC 9110: preconditions are evaluated before the request's content is (the contract:
    a stale If-Match is always the 412); with a current version, the body's error shows."""
    journal = JournalFactory(user=alice)
    response = alice_client.patch(one(journal), {"content": ""}, HTTP_IF_MATCH='"9"')
    assert (response.status_code, response.json()["code"]) == (412, "version_conflict")
    response = alice_client.patch(one(journal), {"content": ""}, HTTP_IF_MATCH='"1"')
    assert (response.status_code, set(response.json())) == (400, {"content"})


def test_a_journal_retried_with_its_client_id_is_stored_once(alice_client, alice):
    session = FocusSessionFactory(user=alice)
    client_id = str(uuid.uuid4())
    body = {"content": "Written on the train", "session": session.pk, "client_id": client_id}
    first = alice_client.post(CREATE, body)
    again = alice_client.post(CREATE, body)
    clash = alice_client.post(CREATE, {**body, "content": "Something else"})
    assert (first.status_code, again.status_code, clash.status_code) == (201, 200, 409)
    assert again.json() == first.json()
    assert first.json()["client_id"] == client_id
    assert (clash.json()["code"], clash.json()["existing"]["id"]) == (
        "client_id_conflict",
        first.json()["id"],
    )
    assert Journal.objects.filter(user=alice).count() == 1


def test_bob_reusing_alices_journal_client_id_writes_his_own(alice_client, bob_client, bob):
    client_id = str(uuid.uuid4())
    mine = alice_client.post(CREATE, {"content": "a", "client_id": client_id}).json()
    his = bob_client.post(CREATE, {"content": "a", "client_id": client_id})
    assert his.status_code == 201
    assert his.json()["id"] != mine["id"]
    assert Journal.objects.filter(user=bob, client_id=client_id).count() == 1


def test_a_journal_client_id_must_be_a_uuid(alice_client):
    response = alice_client.post(CREATE, {"content": "a", "client_id": "phone-42"})
    assert (response.status_code, set(response.json())) == (400, {"client_id"})


def test_export_shows_versions_client_ids_and_update_times(alice_client, alice):
    client_id = str(uuid.uuid4())
    alice_client.post(CREATE, {"content": "a", "client_id": client_id})
    body = streamed_json(alice_client.get("/api/users/me/export/"))
    (journal,) = body["journals"]
    assert (journal["client_id"], journal["version"]) == (client_id, 1)
    assert journal["updated_at"]
