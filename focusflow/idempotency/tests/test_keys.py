"""Safe retries with `Idempotency-Key`, through the endpoints that honour it."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from focus_sessions.models import FocusSession
from focusflow.idempotency import keys
from focusflow.idempotency.models import IdempotencyRecord
from focusflow.testing import UserClient
from users.models import User

pytestmark = pytest.mark.django_db

START = "/api/sessions/start/"
STOP = "/api/sessions/stop/"
PAUSE = "/api/sessions/pause/"


def post(client, path, body=None, key="key-1"):
    return client.post(path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retried_start_gets_the_first_response_byte_for_byte(alice_client):
    first = post(alice_client, START, {"label": "focus"})
    again = post(alice_client, START, {"label": "focus"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert FocusSession.objects.count() == 1


def test_key_order_and_whitespace_in_the_body_do_not_make_it_a_different_request(alice_client):
    first = alice_client.post(
        START,
        '{"label": "a", "planned_minutes": 5}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    again = alice_client.post(
        START, '{"planned_minutes":5,"label":"a"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert again.content == first.content


def test_the_same_key_with_a_different_body_is_a_422(alice_client):
    post(alice_client, START, {"label": "one"})
    response = post(alice_client, START, {"label": "two"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert FocusSession.objects.get().label == "one"


def test_the_same_key_on_another_endpoint_is_a_422(alice_client):
    post(alice_client, START)
    response = post(alice_client, STOP)
    assert response.status_code == 422
    assert FocusSession.objects.get().is_active


def test_keys_of_different_users_never_collide(alice_client, bob_client):
    mine = post(alice_client, START, {"label": "alice"})
    theirs = post(bob_client, START, {"label": "bob"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["label"] == "bob"


def test_a_replayed_stop_changes_nothing_even_after_a_new_start(alice_client):
    alice_client.post(START)
    stopped = post(alice_client, STOP, key="stop-1")
    restarted = alice_client.post(START).json()
    replay = post(alice_client, STOP, key="stop-1")
    assert replay.status_code == 200
    assert replay.content == stopped.content
    assert FocusSession.objects.get(pk=restarted["id"]).is_active


def test_an_error_answer_is_replayed_too(alice_client):
    first = post(alice_client, STOP, key="early")
    assert first.status_code == 404
    alice_client.post(START)
    again = post(alice_client, STOP, key="early")
    assert again.status_code == 404
    assert again.content == first.content
    assert FocusSession.objects.get().is_active


def test_a_409_start_is_replayed_as_it_was(alice_client):
    alice_client.post(START)
    conflict = post(alice_client, START, key="second")
    assert conflict.status_code == 409
    assert post(alice_client, START, key="second").content == conflict.content


def test_after_24_hours_a_key_can_be_used_afresh(alice_client):
    post(alice_client, START, key="daily")
    alice_client.post(STOP)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        again = post(alice_client, START, key="daily")
    assert again.status_code == 201
    assert FocusSession.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "new\nline"])
def test_an_invalid_key_is_a_400(alice_client, key):
    response = post(alice_client, START, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not FocusSession.objects.exists()


def test_a_255_character_key_is_fine(alice_client):
    assert post(alice_client, START, key="k" * 255).status_code == 201


def test_a_request_without_a_key_is_not_recorded(alice_client):
    alice_client.post(START)
    assert not IdempotencyRecord.objects.exists()


def test_a_key_without_a_token_is_still_a_401(api_client):
    assert post(api_client, START).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_account_deleted_while_its_request_runs_gets_a_401_and_keeps_nothing(alice, monkeypatch):
    """Authenticated, then the account is deleted (another device, committed) before the view
    writes: the view finds no account, and the record it claimed goes with it, so the answer
    is the 401 the next request would hear, never a 500 from the record's dangling key."""
    claim = keys._claim

    def deleted_first(**kwargs):
        gone = threading.Thread(
            target=lambda: (User.objects.filter(pk=alice.pk).delete(), connection.close())
        )
        gone.start()
        gone.join()
        return claim(**kwargs)

    monkeypatch.setattr(keys, "_claim", deleted_first)
    response = post(UserClient(alice), START)
    assert (response.status_code, response.json()["code"]) == (401, "user_not_found")
    assert not IdempotencyRecord.objects.exists()
    assert not FocusSession.objects.exists()


def test_the_purge_command_deletes_only_expired_records(alice_client):
    post(alice_client, START, key="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    post(alice_client, PAUSE, key="new")
    call_command("purge_idempotency_keys")
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_deleting_the_account_deletes_its_records(alice_client, password):
    post(alice_client, START)
    alice_client.delete("/api/users/me/", {"password": password})
    assert not IdempotencyRecord.objects.exists()


def test_one_user_can_make_the_store_hold_only_so_many_records(alice_client, bob_client, monkeypatch):
    monkeypatch.setattr("focusflow.idempotency.keys.MAX_RECORDS_PER_USER", 3)
    post(bob_client, PAUSE, key="bobs")
    for i in range(5):
        post(alice_client, PAUSE, key=f"k{i}")
    assert set(
        IdempotencyRecord.objects.filter(user__email="alice@example.com").values_list("key", flat=True)
    ) == {
        "k2",
        "k3",
        "k4",
    }
    assert IdempotencyRecord.objects.filter(key="bobs").exists()  # per user
    alice_client.post(START)
    assert post(alice_client, PAUSE, key="k0").status_code == 200  # dropped: runs afresh


def test_one_user_can_make_the_store_hold_only_so_many_characters(alice_client, monkeypatch):
    monkeypatch.setattr("focusflow.idempotency.keys.MAX_BODY_CHARS_PER_USER", 50_000)
    for i in range(4):
        response = post(alice_client, "/api/journals/create/", {"content": "x" * 19_000}, key=f"j{i}")
        assert response.status_code == 201
    kept = IdempotencyRecord.objects.order_by("created_at").values_list("key", flat=True)
    assert list(kept) == ["j2", "j3"]
    assert sum(len(r.response_body) for r in IdempotencyRecord.objects.all()) <= 50_000
