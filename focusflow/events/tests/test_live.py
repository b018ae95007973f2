"""Live updates through real processes (contract: "Live updates (v1.2)"): two gunicorn web
instances and two uvicorn events instances on one database and one Redis, as deployed."""

import socket
import struct
import time
from datetime import timedelta

import pytest
import redis
import requests

from conftest import LiveServer
from focusflow.testing import TEST_REDIS_URL, EventStream, access_token_for, all_at_once, comparable
from users.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Short heartbeats, so that the tests see several.
HEARTBEAT = 2


@pytest.fixture(scope="module")
def stack(live_server_env, django_db_blocker):
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    env = {**live_server_env, "EVENTS_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    servers = []
    try:
        for events in (False, False, True, True):
            servers.append(LiveServer(env, workers=2, events=events))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(autouse=True)
def argon2(settings):
    # The servers check passwords of the accounts made here: a hasher they know.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


@pytest.fixture
def web(stack):
    return stack[:2]


@pytest.fixture
def events(stack):
    return stack[2:]


def login(server, email: str) -> dict:
    response = requests.post(f"{server.url}/api/users/login/", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def auth(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access']}"}


def open_stream(server, tokens: dict, **params) -> EventStream:
    stream = EventStream(f"{server.url}/api/events/", headers=auth(tokens), params=params)
    assert stream.status_code == 200, stream.response.text
    return stream


def same(change: dict) -> dict:
    """A change as two reads at different moments show it alike (no running clocks)."""
    data = change["data"] and comparable(change["type"], change["data"])
    return {**change, "data": data}


def test_a_change_through_either_web_server_reaches_streams_on_both_events_servers_within_a_second(
    web, events
):
    UserFactory(email="alice@example.com")
    phone, laptop = login(web[0], "alice@example.com"), login(web[1], "alice@example.com")
    streams = [open_stream(events[0], phone), open_stream(events[1], laptop)]
    try:
        for stream in streams:
            assert stream.next()["event"] == "ready"
        for server, action in ((web[0], "start"), (web[1], "stop")):
            response = requests.post(f"{server.url}/api/sessions/{action}/", headers=auth(phone), json={})
            answered = time.monotonic()
            assert response.status_code in (200, 201), response.text
            for stream in streams:
                change = stream.next(timeout=2)
                assert change["event"] == "change"
                assert change["data"]["type"] == "session"
                assert change["data"]["data"]["is_active"] is (action == "start")
                assert change["at"] - answered < 1.0
    finally:
        for stream in streams:
            stream.close()


def test_a_stream_that_drops_resumes_on_the_other_events_server_with_exactly_what_it_missed(web, events):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    api = f"{web[0].url}/api"
    stream = open_stream(events[0], tokens)
    stream.next()  # ready
    first = requests.post(f"{api}/sessions/start/", headers=auth(tokens), json={}).json()
    last = stream.next()
    assert last["data"]["id"] == first["id"]
    stream.close()

    # Missed while the phone was between servers: a stop, a logged session, a journal, a deletion.
    requests.post(f"{api}/sessions/stop/", headers=auth(tokens), json={})
    logged = requests.post(
        f"{api}/sessions/",
        headers=auth(tokens),
        json={"start_time": "2026-01-05T09:00:00Z", "end_time": "2026-01-05T09:25:00Z", "label": "x"},
    ).json()
    requests.post(f"{api}/journals/create/", headers=auth(tokens), json={"content": "notes"})
    assert requests.delete(f"{api}/sessions/{logged['id']}/", headers=auth(tokens)).status_code == 204
    missed = requests.get(f"{api}/sync/", headers=auth(tokens), params={"cursor": last["id"]}).json()

    resumed = EventStream(
        f"{events[1].url}/api/events/", headers={**auth(tokens), "Last-Event-ID": last["id"]}
    )
    try:
        seen = resumed.until("ready")
        assert [same(event["data"]) for event in seen[:-1]] == [same(change) for change in missed["changes"]]
        assert [(c["type"], c["deleted"]) for c in missed["changes"]] == [
            ("session", False),
            ("journal", False),
            ("session", True),
        ]
        assert seen[-1]["id"] == seen[-1]["data"]["cursor"] == seen[-2]["id"]
        resumed.nothing_for(HEARTBEAT + 0.5)  # nothing twice
    finally:
        resumed.close()


def test_logout_ends_its_streams_within_seconds_and_no_other_login_s(web, events):
    UserFactory(email="alice@example.com")
    phone, laptop = login(web[0], "alice@example.com"), login(web[0], "alice@example.com")
    phone_streams = [open_stream(events[0], phone), open_stream(events[1], phone)]
    laptop_stream = open_stream(events[1], laptop)
    try:
        for stream in (*phone_streams, laptop_stream):
            stream.next()  # ready
        requests.post(f"{web[1].url}/api/users/logout/", json={"refresh": phone["refresh"]})
        logged_out = time.monotonic()
        for stream in phone_streams:
            end = stream.next(timeout=5)
            assert (end["event"], end["data"]) == ("end", {"reason": "revoked"})
            assert end["at"] - logged_out < 5
            assert stream.ended.wait(2)
        assert laptop_stream.next(timeout=HEARTBEAT + 2, comments=True) == {
            "comment": "heartbeat",
            "at": pytest.approx(time.monotonic(), abs=HEARTBEAT + 2),
        }
        assert not laptop_stream.ended.is_set()
    finally:
        for stream in (*phone_streams, laptop_stream):
            stream.close()


def test_a_password_change_ends_every_stream_of_the_account(web, events):
    UserFactory(email="alice@example.com")
    phone, laptop = login(web[0], "alice@example.com"), login(web[1], "alice@example.com")
    streams = [open_stream(events[0], phone), open_stream(events[1], laptop)]
    try:
        for stream in streams:
            stream.next()
        response = requests.post(
            f"{web[0].url}/api/users/me/password/",
            headers=auth(laptop),
            json={"current_password": PASSWORD, "new_password": "another-long-password-7"},
        )
        assert response.status_code == 204
        for stream in streams:
            assert stream.next(timeout=5)["data"] == {"reason": "revoked"}
    finally:
        for stream in streams:
            stream.close()


def test_heartbeats_arrive_while_nothing_changes(web, events):
    UserFactory(email="alice@example.com")
    stream = open_stream(events[0], login(web[0], "alice@example.com"))
    try:
        stream.next()  # ready
        beats = [stream.next(timeout=HEARTBEAT + 1, comments=True) for _ in range(2)]
        assert [beat.get("comment") for beat in beats] == ["heartbeat", "heartbeat"]
        assert beats[1]["at"] - beats[0]["at"] == pytest.approx(HEARTBEAT, abs=0.5)
    finally:
        stream.close()


def test_a_browser_ticket_opens_one_stream_once_and_it_ends_when_its_token_expires(web, events):
    alice = UserFactory(email="alice@example.com")
    token = access_token_for(alice)
    token.set_exp(lifetime=timedelta(seconds=4))
    headers = {"Authorization": f"Bearer {token}"}
    response = requests.post(f"{web[0].url}/api/events/ticket/", headers=headers)
    assert response.status_code == 201
    assert 0 < response.json()["expires_in"] <= 4  # no longer than the token that bought it
    ticket = response.json()["ticket"]
    stream = EventStream(f"{events[0].url}/api/events/", params={"ticket": ticket})
    try:
        assert stream.status_code == 200
        assert stream.next()["event"] == "ready"
        again = requests.get(f"{events[1].url}/api/events/", params={"ticket": ticket}, timeout=5)
        assert again.status_code == 401
        assert again.json()["code"] == "ticket_not_valid"
        end = stream.next(timeout=6)
        assert (end["event"], end["data"]) == ("end", {"reason": "expired"})
        assert end["at"] - time.monotonic() < 1
        assert time.time() >= token["exp"]
    finally:
        stream.close()


def test_fifty_streams_per_account_across_events_servers_then_429(web, events):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    streams = [open_stream(events[i % 2], tokens) for i in range(50)]
    try:
        for stream in streams:
            stream.next()
        refused = requests.get(f"{events[1].url}/api/events/", headers=auth(tokens), timeout=5)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_streams"
        assert int(refused.headers["Retry-After"]) > 0
        streams.pop().close()
        time.sleep(0.5)  # the server notices the closed connection
        streams.append(open_stream(events[1], tokens))
    finally:
        for stream in streams:
            stream.close()


def test_an_account_deletion_ends_its_streams(web, events):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    stream = open_stream(events[0], tokens)
    try:
        stream.next()
        response = requests.delete(
            f"{web[0].url}/api/users/me/", headers=auth(tokens), json={"password": PASSWORD}
        )
        assert response.status_code == 204
        assert stream.next(timeout=5)["data"] == {"reason": "revoked"}
    finally:
        stream.close()


def test_streams_of_one_account_each_get_every_change_once_in_commit_order_under_a_burst(web, events):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    start = sync_cursor = requests.get(f"{web[0].url}/api/sync/", headers=auth(tokens)).json()["cursor"]
    streams = [open_stream(events[i % 2], tokens, cursor=start) for i in range(10)]
    try:
        for stream in streams:
            stream.until("ready")

        def write(n: int) -> None:
            for k in range(10):
                body = {"content": f"device {n}, note {k}"}
                response = requests.post(
                    f"{web[n % 2].url}/api/journals/create/", headers=auth(tokens), json=body
                )
                assert response.status_code == 201

        all_at_once(write, 3)
        feed, sync_cursor = [], start
        while True:
            page = requests.get(
                f"{web[1].url}/api/sync/", headers=auth(tokens), params={"cursor": sync_cursor}
            ).json()
            feed += [(change["type"], change["id"]) for change in page["changes"]]
            sync_cursor = page["cursor"]
            if not page["has_more"]:
                break
        assert len(feed) == 30
        for stream in streams:
            got = [stream.next(timeout=5) for _ in range(30)]
            assert [(e["data"]["type"], e["data"]["id"]) for e in got] == feed
            assert len({e["id"] for e in got}) == 30
            stream.nothing_for(0.5)
    finally:
        for stream in streams:
            stream.close()


def test_a_tag_merge_reaches_streams_as_each_session_it_rewrote_and_the_tag_s_tombstone(web, events):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    api = f"{web[0].url}/api"
    reading = requests.post(f"{api}/tags/", headers=auth(tokens), json={"name": "reading"}).json()
    books = requests.post(f"{api}/tags/", headers=auth(tokens), json={"name": "books"}).json()
    sessions = [
        requests.post(
            f"{api}/sessions/",
            headers=auth(tokens),
            json={
                "start_time": f"2026-01-0{day}T09:00:00Z",
                "end_time": f"2026-01-0{day}T09:25:00Z",
                "tags": [books["id"]],
            },
        ).json()["id"]
        for day in (5, 6)
    ]
    stream = open_stream(events[1], tokens)
    try:
        stream.next()  # ready
        merged = requests.post(
            f"{web[1].url}/api/tags/{books['id']}/merge/", headers=auth(tokens), json={"into": reading["id"]}
        )
        assert merged.status_code == 200, merged.text
        got = [stream.next(timeout=2)["data"] for _ in range(3)]
        assert sorted((c["type"], c["id"], c["deleted"]) for c in got) == sorted(
            [("session", sessions[0], False), ("session", sessions[1], False), ("tag", books["id"], True)]
        )
        assert all(c["data"]["tags"] == [reading["id"]] for c in got if c["type"] == "session")
    finally:
        stream.close()


def test_a_login_ended_while_its_stream_sends_a_long_backlog_gets_nothing_written_after_it(web, events):
    """A client that reads slowly keeps its stream in its backlog: each page checks the login
    again, so what is written after a logout never reaches it."""
    from journals.services import journal_create
    from users.models import User

    alice = UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    start = requests.get(f"{web[0].url}/api/sync/", headers=auth(tokens)).json()["cursor"]
    user = User.objects.get(pk=alice.pk)
    for n in range(450):
        journal_create(user=user, content=f"{n} " + "x" * 19_000)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(("127.0.0.1", events[0].port))
    head = f"GET /api/events/?cursor={start} HTTP/1.0\r\nAuthorization: Bearer {tokens['access']}\r\n\r\n"
    reader.sendall(head.encode())
    try:
        assert reader.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1)  # the stream is stuck sending its first page to a client that does not read
        requests.post(f"{web[0].url}/api/users/logout/", json={"refresh": tokens["refresh"]})
        journal_create(user=user, content="SECRET written after the logout")
        received = b""
        reader.settimeout(20)
        while chunk := reader.recv(1 << 20):
            received += chunk
    finally:
        reader.close()
    assert b"SECRET" not in received
    assert received.rstrip().endswith(b'event: end\ndata: {"reason":"revoked"}')


def test_a_stream_whose_client_left_during_its_opening_gives_its_slot_back(web, events, settings):
    UserFactory(email="alice@example.com")
    tokens = login(web[0], "alice@example.com")
    request = f"GET /api/events/ HTTP/1.0\r\nAuthorization: Bearer {tokens['access']}\r\n\r\n".encode()
    for _ in range(60):  # gone before any answer
        with socket.create_connection(("127.0.0.1", events[0].port)) as abrupt:
            abrupt.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            abrupt.sendall(request)
    deadline = time.monotonic() + 5 + 3 * HEARTBEAT
    while True:
        stream = EventStream(f"{events[1].url}/api/events/", headers=auth(tokens))
        if stream.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    try:
        assert stream.status_code == 200
        assert stream.next()["event"] == "ready"
    finally:
        stream.close()


def make_token(server, tokens: dict, scopes: list[str]) -> dict:
    response = requests.post(
        f"{server.url}/api/users/me/tokens/",
        headers=auth(tokens),
        json={"name": "status bar", "scopes": scopes},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_personal_token_streams_only_the_kinds_it_may_read_and_ends_when_deleted(web, events):
    UserFactory(email="alice@example.com")
    phone = login(web[0], "alice@example.com")
    made = make_token(web[0], phone, ["sessions:read"])
    stream = EventStream(f"{events[0].url}/api/events/", headers={"Authorization": f"Bearer {made['token']}"})
    # A browser's ticket, bought with the token, carries its scopes.
    ticket = requests.post(
        f"{web[1].url}/api/events/ticket/", headers={"Authorization": f"Bearer {made['token']}"}
    ).json()["ticket"]
    by_ticket = EventStream(f"{events[1].url}/api/events/", params={"ticket": ticket})
    # The app's own stream, at the same place in the feed on the same server: it sees everything,
    # and the token's stream must not share its reads.
    app = open_stream(events[0], phone)
    try:
        assert stream.status_code == by_ticket.status_code == 200
        for each in (stream, by_ticket, app):
            assert each.next()["event"] == "ready"
        journal = requests.post(
            f"{web[1].url}/api/journals/create/", headers=auth(phone), json={"content": "private"}
        )
        assert journal.status_code == 201
        session = requests.post(f"{web[0].url}/api/sessions/start/", headers=auth(phone), json={})
        for each in (stream, by_ticket):
            change = each.next(timeout=3)
            assert (change["data"]["type"], change["data"]["id"]) == ("session", session.json()["id"])
        assert [change["data"]["type"] for change in (app.next(timeout=3), app.next(timeout=3))] == [
            "journal",
            "session",
        ]
        deleted = requests.delete(f"{web[1].url}/api/users/me/tokens/{made['id']}/", headers=auth(phone))
        assert deleted.status_code == 204
        revoked_at = time.monotonic()
        for each in (stream, by_ticket):
            end = each.next(timeout=5)
            assert (end["event"], end["data"]) == ("end", {"reason": "revoked"})
            assert end["at"] - revoked_at < 5
        assert not app.ended.is_set()
    finally:
        for each in (stream, by_ticket, app):
            each.close()
