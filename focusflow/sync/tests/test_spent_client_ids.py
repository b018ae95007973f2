"""A client id whose object the user deleted is spent for good: a phone retrying an old upload
cannot bring deleted data back (contract v1.1 "Edges"), for every kind of object that takes one."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import call_command

from focus_sessions.models import FocusSession
from focusflow.sync.models import Tombstone
from focusflow.testing import T0, at, frozen
from journals.models import Journal

pytestmark = pytest.mark.django_db

QUIET = {"stdout": open("/dev/null", "w")}  # noqa: SIM115


@dataclass(frozen=True)
class Kind:
    """How a device makes one object of a kind with a client id, and how it is deleted."""

    name: str
    path: str
    body: dict
    delete_path: str
    model: type
    other: dict  # other fields than `body`'s
    idempotent: bool = True  # takes an Idempotency-Key

    def create(self, client, client_id: str, *, other: bool = False, **headers):
        return client.post(
            self.path, {**self.body, **(self.other if other else {}), "client_id": client_id}, **headers
        )

    def delete(self, client, object_id: int) -> None:
        if self.path.endswith("/start/"):
            assert client.post("/api/sessions/stop/").status_code == 200
        assert client.delete(f"{self.delete_path}{object_id}/").status_code == 204


KINDS = [
    Kind(
        "start",
        "/api/sessions/start/",
        {"label": "Essay"},
        "/api/sessions/",
        FocusSession,
        {"label": "Email"},
    ),
    Kind(
        "log",
        "/api/sessions/",
        {
            "start_time": (T0 - timedelta(hours=2)).isoformat(),
            "end_time": (T0 - timedelta(hours=1)).isoformat(),
        },
        "/api/sessions/",
        FocusSession,
        {"label": "Reading"},
        idempotent=False,
    ),
    Kind(
        "journal",
        "/api/journals/create/",
        {"content": "Written on the train"},
        "/api/journals/",
        Journal,
        {"content": "Rewritten on the bus"},
    ),
]


@pytest.fixture(params=KINDS, ids=lambda kind: kind.name)
def kind(request) -> Kind:
    return request.param


def test_a_create_retried_after_its_object_was_deleted_is_a_410_and_makes_nothing(alice_client, alice, kind):
    client_id = str(uuid.uuid4())
    with at(0):
        made = kind.create(alice_client, client_id)
        assert made.status_code == 201, made.content
        kind.delete(alice_client, made.json()["id"])
    seq = type(alice).objects.get(pk=alice.pk).sync_seq
    with at(1):
        again = kind.create(alice_client, client_id)
        changed = kind.create(alice_client, client_id, other=True)
    assert (again.status_code, again.json().get("code")) == (410, "client_id_deleted")
    assert (changed.status_code, changed.json().get("code")) == (410, "client_id_deleted")
    assert not kind.model.objects.filter(user=alice).exists()
    assert type(alice).objects.get(pk=alice.pk).sync_seq == seq  # no change for other devices


def test_the_client_id_stays_spent_after_its_tombstone_is_purged(alice_client, alice, kind, settings):
    client_id = str(uuid.uuid4())
    with at(0):
        kind.delete(alice_client, kind.create(alice_client, client_id).json()["id"])
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION * 4):
        call_command("purge_tombstones", **QUIET)
        call_command("purge_idempotency_keys", **QUIET)
        assert not Tombstone.objects.filter(user=alice).exists()
    with at(1):  # a phone that stayed offline for months sends its old upload
        response = kind.create(alice_client, client_id)
    assert (response.status_code, response.json().get("code")) == (410, "client_id_deleted")
    assert not kind.model.objects.filter(user=alice).exists()


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind.idempotent], ids=lambda kind: kind.name)
def test_an_idempotency_key_replay_comes_first_within_its_day(alice_client, alice, kind):
    client_id, key = str(uuid.uuid4()), {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    with at(0):
        first = kind.create(alice_client, client_id, **key)
        kind.delete(alice_client, first.json()["id"])
    with at(60):
        replay = kind.create(alice_client, client_id, **key)
    assert (replay.status_code, replay.json()) == (201, first.json())
    with at(60 * 25):
        later = kind.create(alice_client, client_id, **key)
    assert (later.status_code, later.json().get("code")) == (410, "client_id_deleted")
    assert not kind.model.objects.filter(user=alice).exists()


def test_a_client_id_is_spent_only_for_its_own_kind_and_its_own_user(alice_client, bob_client, alice, bob):
    client_id = str(uuid.uuid4())
    with at(0):
        journal = alice_client.post("/api/journals/create/", {"content": "x", "client_id": client_id}).json()
        alice_client.delete(f"/api/journals/{journal['id']}/")
        session = alice_client.post("/api/sessions/start/", {"client_id": client_id})
        his = bob_client.post("/api/journals/create/", {"content": "x", "client_id": client_id})
    assert (session.status_code, his.status_code) == (201, 201)


def test_a_deleted_object_without_a_client_id_spends_nothing(alice_client, alice):
    with at(0):
        journal = alice_client.post("/api/journals/create/", {"content": "x"}).json()
        alice_client.delete(f"/api/journals/{journal['id']}/")
        again = alice_client.post("/api/journals/create/", {"content": "x"})
    assert again.status_code == 201
