"""Several devices at once, over real HTTP (gunicorn, 4 workers, each request its own
connection and transaction): no change is ever skipped, no duplicate and no overlap is made."""

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from focus_sessions.models import FocusSession
from focusflow.sync.feed import sync_kinds
from focusflow.testing import DeviceCopy, all_at_once, bearer, comparable, send_all_at_once
from journals.models import Journal
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


class Device:
    """One phone, tablet or browser tab: its own HTTP connection."""

    def __init__(self, url: str, user) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = bearer(user)
        self.statuses: list[int] = []

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, f"{self.url}/api/{path}", timeout=30, **kwargs)
        self.statuses.append(response.status_code)
        return response

    def copy(self, *, limit: int = 200) -> DeviceCopy:
        def fetch(params):
            response = self.call("GET", "sync/", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        return DeviceCopy(fetch, limit=limit)


def server_copy(user) -> dict:
    """Every object of every kind the feed syncs (tags and goals too), as its endpoint shows it."""
    copy = {}
    for kind in sync_kinds():
        for obj in kind.model.objects.filter(**{kind.owner_field: user.pk}):
            copy[(kind.name, obj.pk)] = comparable(kind.name, kind.serializer(obj).data)
    return copy


def iso(moment: datetime) -> str:
    return moment.isoformat()


def _writer(device: Device, slot: int, rounds: int, seed: int) -> None:
    """Random changes to the user's data in a time slot of its own (so its logs never overlap
    another writer's)."""
    rng = random.Random(seed)
    base = datetime.now(UTC) - timedelta(hours=20) + timedelta(hours=4 * slot)
    mine: list[int] = []
    journals: list[int] = []
    for n in range(rounds):
        choice = rng.random()
        if choice < 0.35 or not mine:
            start = base + timedelta(minutes=5 * n)
            body = {
                "start_time": iso(start),
                "end_time": iso(start + timedelta(minutes=3)),
                "label": f"w{slot}-{n}",
            }
            response = device.call("POST", "sessions/", json=body)
            if response.status_code == 201:
                mine.append(response.json()["id"])
        elif choice < 0.55:
            device.call("PATCH", f"sessions/{rng.choice(mine)}/", json={"label": f"edit-{n}"})
        elif choice < 0.65:
            victim = mine.pop(rng.randrange(len(mine)))
            device.call("DELETE", f"sessions/{victim}/")
        elif choice < 0.8:
            response = device.call("POST", "journals/create/", json={"content": f"j{slot}-{n}"})
            journals.append(response.json()["id"])
        elif choice < 0.9 and journals:
            device.call("PATCH", f"journals/{rng.choice(journals)}/", json={"content": f"edited {n}"})
        elif journals:
            device.call("DELETE", f"journals/{journals.pop()}/")
        else:
            device.call("PATCH", "users/me/", json={"display_name": f"writer {slot} #{n}"})


@pytest.mark.parametrize("attempt", range(3))
def test_a_reader_syncing_against_concurrent_writers_ends_with_the_servers_copy(gunicorn, attempt):
    user = UserFactory()
    writers = [Device(gunicorn.url, user) for _ in range(4)]
    reader = Device(gunicorn.url, user)
    copy = reader.copy(limit=7)  # small pages: many cursors cross the writers' commits
    done = threading.Event()
    pages = []

    def read_in_a_loop():
        while not done.is_set():
            pages.append(copy.sync())

    reading = threading.Thread(target=read_in_a_loop)
    reading.start()
    try:
        all_at_once(lambda i: _writer(writers[i], slot=i, rounds=40, seed=attempt * 10 + i), len(writers))
    finally:
        done.set()
        reading.join(timeout=60)
    copy.sync()
    statuses = [code for device in [*writers, reader] for code in device.statuses]
    assert not [code for code in statuses if code >= 500]
    assert len(pages) > 3  # the reader really read while the writers wrote
    assert copy.snapshot() == server_copy(user)


def test_two_devices_logging_overlapping_sessions_at_once_one_wins(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    now = datetime.now(UTC)
    for round_ in range(6):
        start = now - timedelta(hours=20 - 2 * round_)
        phone = {"start_time": iso(start), "end_time": iso(start + timedelta(minutes=50))}
        laptop = {
            "start_time": iso(start + timedelta(minutes=30)),
            "end_time": iso(start + timedelta(minutes=80)),
        }
        responses = send_all_at_once(
            [
                ("POST", f"{gunicorn.url}/api/sessions/", {"json": phone, "headers": headers}),
                ("POST", f"{gunicorn.url}/api/sessions/", {"json": laptop, "headers": headers}),
            ]
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        loser = next(r for r in responses if r.status_code == 409).json()
        winner = next(r for r in responses if r.status_code == 201).json()
        assert loser["code"] == "session_overlap"
        assert loser["conflicting_session"]["id"] == winner["id"]
    assert FocusSession.objects.filter(user=user).count() == 6


def test_one_client_id_sent_concurrently_makes_one_session(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    start = datetime.now(UTC) - timedelta(hours=3)
    body = {
        "client_id": str(uuid.uuid4()),
        "start_time": iso(start),
        "end_time": iso(start + timedelta(minutes=25)),
    }
    responses = send_all_at_once(
        [("POST", f"{gunicorn.url}/api/sessions/", {"json": body, "headers": headers})] * 12
    )
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert FocusSession.objects.filter(user=user).count() == 1


def test_a_journal_client_id_sent_concurrently_makes_one_journal(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    body = {"client_id": str(uuid.uuid4()), "content": "written offline"}
    responses = send_all_at_once(
        [("POST", f"{gunicorn.url}/api/journals/create/", {"json": body, "headers": headers})] * 12
    )
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert Journal.objects.filter(user=user).count() == 1


def test_an_edit_racing_a_delete_never_leaves_the_devices_apart(gunicorn):
    user = UserFactory()
    phone = Device(gunicorn.url, user)
    copy = phone.copy()
    start = datetime.now(UTC) - timedelta(hours=10)
    for n in range(8):
        begin = start + timedelta(minutes=30 * n)
        session = phone.call(
            "POST",
            "sessions/",
            json={"start_time": iso(begin), "end_time": iso(begin + timedelta(minutes=20))},
        ).json()
        url = f"{gunicorn.url}/api/sessions/{session['id']}/"
        headers = {"Authorization": bearer(user)}
        edit, delete = send_all_at_once(
            [
                ("PATCH", url, {"json": {"label": "edited"}, "headers": {**headers, "If-Match": '"1"'}}),
                ("DELETE", url, {"headers": headers}),
            ]
        )
        assert delete.status_code == 204
        # The edit either came first (and the delete removed the edited session) or found it gone.
        assert edit.status_code in (200, 404), edit.text
    copy.sync()
    assert copy.snapshot() == server_copy(user)
    assert not FocusSession.objects.filter(user=user).exists()


def test_a_phone_offline_then_uploading_twice_while_the_web_edits_ends_in_agreement(gunicorn):
    """The issue's day: a phone goes offline, starts, pauses, stops and logs sessions, then
    reconnects and uploads everything twice (its answers were lost), while the web app edits
    and deletes. Both copies end equal to the server's: no duplicates, no overlaps, no 5xx."""
    user = UserFactory()
    phone, web = Device(gunicorn.url, user), Device(gunicorn.url, user)
    phone_copy, web_copy = phone.copy(limit=5), web.copy(limit=5)
    now = datetime.now(UTC)
    # Known to both before the phone goes offline.
    for n in range(3):
        begin = now - timedelta(hours=9 - n)
        web.call(
            "POST",
            "sessions/",
            json={"start_time": iso(begin), "end_time": iso(begin + timedelta(minutes=40))},
        )
    phone_copy.sync()
    web_copy.sync()

    # Offline, the phone keeps what it did, with when it did it.
    t = now - timedelta(hours=5)
    running_id = str(uuid.uuid4())
    uploads = [
        ("POST", "sessions/start/", {"client_id": running_id, "at": iso(t), "label": "subway"}),
        ("POST", "sessions/pause/", {"at": iso(t + timedelta(minutes=10))}),
        ("POST", "sessions/resume/", {"at": iso(t + timedelta(minutes=12))}),
        ("POST", "sessions/stop/", {"at": iso(t + timedelta(minutes=40))}),
    ]
    for n in range(3):
        begin = now - timedelta(hours=4 - n)
        uploads.append(
            (
                "POST",
                "sessions/",
                {
                    "client_id": str(uuid.uuid4()),
                    "start_time": iso(begin),
                    "end_time": iso(begin + timedelta(minutes=30)),
                    "paused_seconds": 60 * n,
                },
            )
        )
    uploads.append(
        ("POST", "journals/create/", {"client_id": str(uuid.uuid4()), "content": "train thoughts"})
    )
    keys = [f"phone-{uuid.uuid4()}" for _ in uploads]

    def upload_everything():
        for (method, path, body), key in zip(uploads, keys, strict=True):
            phone.call(method, path, json=body, headers={"Idempotency-Key": key})

    def web_edits_and_deletes():
        known = [key[1] for key in web_copy.objects if key[0] == "session"]
        web.call("PATCH", f"sessions/{known[0]}/", json={"label": "renamed on the web"})
        web.call("DELETE", f"sessions/{known[1]}/")
        web.call("POST", "journals/create/", json={"content": "from the web"})
        web.call("PATCH", "users/me/", json={"daily_goal_minutes": 120})

    all_at_once(lambda i: upload_everything() if i == 0 else web_edits_and_deletes(), 2)
    upload_everything()  # the answers were lost: everything again, with the same keys and ids
    phone_copy.sync()
    web_copy.sync()

    assert not [code for code in phone.statuses + web.statuses if code >= 500]
    assert phone_copy.snapshot() == web_copy.snapshot() == server_copy(user)
    sessions = list(FocusSession.objects.filter(user=user).order_by("start_time"))
    assert len(sessions) == 3 - 1 + 1 + 3  # known, one deleted, the subway one, three logged
    assert Journal.objects.filter(user=user).count() == 2
    for earlier, later in zip(sessions, sessions[1:], strict=False):
        assert earlier.end_time <= later.start_time
    subway = FocusSession.objects.get(user=user, client_id=running_id)
    assert (subway.focus_seconds, int(subway.paused_duration.total_seconds())) == (38 * 60, 120)
