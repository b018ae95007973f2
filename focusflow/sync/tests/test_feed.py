"""The sync feed, `GET /api/sync/`: what a device receives, page by page (contract v1.1)."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from focus_sessions.models import FocusSession
from focus_sessions.serializers import FocusSessionSerializer
from focusflow.sync.models import Tombstone
from focusflow.testing import T0, DeviceCopy, at, comparable, frozen
from journals.models import Journal
from journals.serializers import JournalSerializer
from users.personal_tokens import personal_token_create
from users.serializers import UserSerializer

pytestmark = pytest.mark.django_db

SYNC = "/api/sync/"
SESSIONS = "/api/sessions/"


def device(client, **kwargs) -> DeviceCopy:
    def fetch(params):
        response = client.get(SYNC, params)
        assert response.status_code == 200, response.content
        return response.json()

    return DeviceCopy(fetch, **kwargs)


def server_copy(user) -> dict:
    """What the server holds for the user, shown as its endpoints show it."""
    copy = {
        ("profile", user.pk): comparable("profile", UserSerializer(type(user).objects.get(pk=user.pk)).data)
    }
    for session in FocusSession.objects.filter(user=user):
        copy[("session", session.pk)] = comparable("session", FocusSessionSerializer(session).data)
    for journal in Journal.objects.filter(user=user):
        copy[("journal", journal.pk)] = comparable("journal", JournalSerializer(journal).data)
    return copy


def log(client, start: int, end: int, **extra):
    body = {
        "start_time": (T0 + timedelta(minutes=start)).isoformat(),
        "end_time": (T0 + timedelta(minutes=end)).isoformat(),
        **extra,
    }
    response = client.post(SESSIONS, body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_first_sync_brings_the_profile_and_everything_in_commit_order(alice_client, alice):
    with at(0):
        first = log(alice_client, -60, -30)
        journal = alice_client.post("/api/journals/create/", {"content": "x", "session": first["id"]}).json()
        running = alice_client.post("/api/sessions/start/").json()
        body = alice_client.get(SYNC).json()
    assert [(c["type"], c["id"]) for c in body["changes"]] == [
        ("profile", alice.pk),
        ("session", first["id"]),
        ("journal", journal["id"]),
        ("session", running["id"]),
    ]
    assert body["has_more"] is False
    assert body["server_now"] == running["server_now"]
    changes = {(c["type"], c["id"]): c for c in body["changes"]}
    assert changes[("journal", journal["id"])]["data"] == journal
    assert changes[("session", running["id"])]["data"] == running
    assert changes[("profile", alice.pk)]["data"] == alice_client.get("/api/users/me/").json()
    assert all(c["deleted"] is False for c in body["changes"])


def test_a_later_sync_brings_only_what_changed_each_object_once_in_its_latest_state(alice_client, alice):
    phone = device(alice_client)
    with at(0):
        kept = log(alice_client, -90, -60)
        edited = log(alice_client, -50, -40)
        phone.sync()
        alice_client.patch(f"{SESSIONS}{edited['id']}/", {"label": "one"})
        alice_client.patch(f"{SESSIONS}{edited['id']}/", {"label": "two"})
        body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    assert [(c["type"], c["id"], c["data"]["label"]) for c in body["changes"]] == [
        ("session", edited["id"], "two")
    ]
    assert kept["id"] not in {c["id"] for c in body["changes"]}


def test_deletions_come_as_tombstones(alice_client, alice):
    phone = device(alice_client)
    with at(0):
        session = log(alice_client, -60, -30)
        journal = alice_client.post("/api/journals/create/", {"content": "x"}).json()
        phone.sync()
        alice_client.delete(f"{SESSIONS}{session['id']}/")
        alice_client.delete(f"/api/journals/{journal['id']}/")
        body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    assert body["changes"] == [
        {"type": "session", "id": session["id"], "deleted": True, "data": None},
        {"type": "journal", "id": journal["id"], "deleted": True, "data": None},
    ]


def test_a_profile_change_comes_as_one_profile_entry(alice_client, alice):
    phone = device(alice_client)
    phone.sync()
    alice_client.patch("/api/users/me/", {"timezone": "Asia/Tokyo", "daily_goal_minutes": 90})
    body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    profiles = [c for c in body["changes"] if c["type"] == "profile"]
    assert [(c["data"]["timezone"], c["data"]["daily_goal_minutes"]) for c in profiles] == [
        ("Asia/Tokyo", 90)
    ]
    # v1.2: the daily goal is also the goal with no tag and period `day`, its own entry.
    goals = [c["data"] for c in body["changes"] if c["type"] == "goal"]
    assert [(g["tag"], g["period"], g["target_minutes"]) for g in goals] == [(None, "day", 90)]
    assert len(body["changes"]) == 2
    # Saving the same values again is no change.
    alice_client.patch("/api/users/me/", {"timezone": "Asia/Tokyo"})
    assert alice_client.get(SYNC, {"cursor": body["cursor"]}).json()["changes"] == []


def test_retries_change_nothing_the_feed_would_carry(alice_client, alice):
    phone = device(alice_client)
    client_id = str(uuid.uuid4())
    with at(0):
        alice_client.post("/api/sessions/start/", {"client_id": client_id}, HTTP_IDEMPOTENCY_KEY="k1")
        phone.sync()
        alice_client.post("/api/sessions/start/", {"client_id": client_id})  # a retried upload
        alice_client.post("/api/sessions/start/", {"client_id": client_id}, HTTP_IDEMPOTENCY_KEY="k1")
        body = alice_client.get(SYNC, {"cursor": phone.cursor}).json()
    assert body["changes"] == []


def test_pages_applied_in_order_give_the_servers_copy(alice_client, alice):
    phone = device(alice_client, limit=3)
    with at(0):
        for n in range(10):
            log(alice_client, -300 + 20 * n, -290 + 20 * n, label=f"s{n}")
        for n in range(4):
            alice_client.post("/api/journals/create/", {"content": f"j{n}"})
        assert phone.sync() == 5  # 1 profile + 10 sessions + 4 journals, 3 a page
        assert phone.snapshot() == server_copy(alice)
        alice_client.patch("/api/users/me/", {"display_name": "A."})
        session = FocusSession.objects.filter(user=alice).first()
        alice_client.delete(f"{SESSIONS}{session.pk}/")
        alice_client.post("/api/sessions/start/")
        phone.sync()
    assert phone.snapshot() == server_copy(alice)


def test_changes_made_in_the_admin_reach_the_devices(admin_client, alice_client, alice):
    phone = device(alice_client)
    with at(0):
        session = log(alice_client, -60, -30)
        journal = alice_client.post("/api/journals/create/", {"content": "typo"}).json()
        phone.sync()
        admin_client.post(
            f"/admin/focus_sessions/focussession/{session['id']}/change/",
            {"label": "fixed", "planned_minutes": ""},
        )
        admin_client.post(f"/admin/journals/journal/{journal['id']}/change/", {"content": "no typo"})
        admin_client.post(f"/admin/journals/journal/{journal['id']}/delete/", {"post": "yes"})
        phone.sync()
    assert phone.snapshot() == server_copy(alice)
    assert phone.objects[("session", session["id"])]["label"] == "fixed"
    assert ("journal", journal["id"]) not in phone.objects
    assert Tombstone.objects.filter(user=alice, kind="journal", object_id=journal["id"]).exists()


def test_an_empty_poll_costs_one_query_after_authentication(alice_client, alice, django_assert_num_queries):
    cursor = alice_client.get(SYNC).json()["cursor"]
    with django_assert_num_queries(2):  # the user; the account's position
        body = alice_client.get(SYNC, {"cursor": cursor}).json()
    assert (body["changes"], body["has_more"]) == ([], False)


def test_a_page_costs_the_same_whatever_its_size(alice_client, alice, django_assert_num_queries):
    with at(0):
        for n in range(60):
            log(alice_client, -3000 + 40 * n, -2990 + 40 * n)
            alice_client.post("/api/journals/create/", {"content": f"j{n}"})
    # the user; the position; the page; its sessions; its journals; the profile
    for limit in (5, 200):
        with django_assert_num_queries(6):
            assert alice_client.get(SYNC, {"limit": limit}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": "eyJ1Ijo5OTl9:forged:sig"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "all"}, "limit"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_400(alice_client, params, field):
    response = alice_client.get(SYNC, params)
    assert (response.status_code, set(response.json())) == (400, {field})


def test_bobs_cursor_is_not_a_cursor_for_alice(alice_client, bob_client):
    cursor = bob_client.get(SYNC).json()["cursor"]
    response = alice_client.get(SYNC, {"cursor": cursor})
    assert (response.status_code, set(response.json())) == (400, {"cursor"})


def test_an_empty_cursor_means_a_full_sync(alice_client, alice):
    assert alice_client.get(SYNC, {"cursor": ""}).json()["changes"][0]["type"] == "profile"


def test_an_old_cursor_is_good_while_no_deletion_it_may_have_missed_is_purged(alice_client, settings):
    """A device away for months has missed nothing the server still keeps: it catches up."""
    with frozen(T0):
        cursor = alice_client.get(SYNC).json()["cursor"]
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION * 3):
        call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
        session = log(alice_client, -60, -30)
        response = alice_client.get(SYNC, {"cursor": cursor})
    assert response.status_code == 200, response.content
    assert [c["id"] for c in response.json()["changes"]] == [session["id"]]


def _age_and_purge_a_deletion(client, user, settings) -> None:
    """Alice deleted a session a retention ago; housekeeping has purged its tombstone since."""
    with at(0):
        deleted = log(client, -300, -290)
        assert client.delete(f"{SESSIONS}{deleted['id']}/").status_code == 204
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION + timedelta(days=1)):
        call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Tombstone.objects.filter(user=user).exists()
    assert type(user).objects.get(pk=user.pk).sync_purged_seq > 0


def test_a_new_device_pages_to_the_end_after_a_purge_and_its_cursor_works(alice_client, alice, settings):
    """Housekeeping never strands a device: objects numbered below the purge horizon and a
    small page size make every page's cursor lie below the horizon, yet each is good."""
    with at(0):
        for minutes in range(-280, -80, 20):
            log(alice_client, minutes, minutes + 10)
        alice_client.post("/api/journals/create/", {"content": "before the deletion"})
    _age_and_purge_a_deletion(alice_client, alice, settings)
    later = T0 + settings.SYNC_TOMBSTONE_RETENTION + timedelta(days=2)
    phone = device(alice_client, limit=2)
    with frozen(later):
        assert phone.sync() > 5  # page after page, every one a 200 (device() asserts it)
        assert phone.snapshot() == server_copy(alice)
        # The cursor it ends with picks up what comes next, also after another purge.
        new = log(alice_client, 60 * 24 * 32 - 60, 60 * 24 * 32 - 50)
        call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
        phone.sync()
    assert ("session", new["id"]) in phone.objects
    assert phone.snapshot() == server_copy(alice)


def test_a_one_page_first_sync_after_a_purge_leaves_a_good_cursor(alice_client, alice, settings):
    with at(0):
        log(alice_client, -60, -50)
    _age_and_purge_a_deletion(alice_client, alice, settings)
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION + timedelta(days=2)):
        cursor = alice_client.get(SYNC).json()["cursor"]
        response = alice_client.get(SYNC, {"cursor": cursor})
    assert (response.status_code, response.json()["changes"]) == (200, [])


def test_a_chain_begun_before_a_deletion_that_is_purged_is_a_410(alice_client, alice, settings):
    """The device paged part of the way, then the web app deleted something, and the device
    stayed away until that deletion was purged: it may hold the deleted object. Start again."""
    with at(0):
        for minutes in range(-200, -100, 20):
            log(alice_client, minutes, minutes + 10)
        first = alice_client.get(SYNC, {"limit": 2}).json()
        assert first["has_more"]
    _age_and_purge_a_deletion(alice_client, alice, settings)
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION + timedelta(days=2)):
        response = alice_client.get(SYNC, {"cursor": first["cursor"], "limit": 2})
    assert (response.status_code, response.json()["code"]) == (410, "sync_cursor_expired")


def test_a_cursor_from_before_chains_were_recorded_still_works(alice_client, alice):
    """Cursors issued by the previous release carried no chain start: read as begun at 0."""
    from django.core import signing

    alice_client.post("/api/journals/create/", {"content": "x"})
    latest = type(alice).objects.get(pk=alice.pk).sync_seq
    old = signing.dumps({"u": alice.pk, "s": latest, "t": 1}, salt="focusflow.sync.cursor")
    assert alice_client.get(SYNC, {"cursor": old}).status_code == 200


def test_purging_tombstones_expires_the_cursors_that_could_still_need_them(alice_client, alice, settings):
    with frozen(T0):
        old = alice_client.get(SYNC).json()["cursor"]
        session = log(alice_client, -60, -30)
        alice_client.delete(f"{SESSIONS}{session['id']}/")
        after_the_deletion = alice_client.get(SYNC, {"cursor": old}).json()["cursor"]
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION + timedelta(days=1)):
        call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert not Tombstone.objects.filter(user=alice).exists()
    # A cursor from before the purged deletion can no longer learn of it: start again.
    with frozen(T0 + timedelta(days=2)):
        response = alice_client.get(SYNC, {"cursor": old})
        assert (response.status_code, response.json()["code"]) == (410, "sync_cursor_expired")
        # One that had seen the deletion lost nothing.
        assert alice_client.get(SYNC, {"cursor": after_the_deletion}).status_code == 200


def test_tombstones_are_kept_for_the_retention(alice_client, alice, settings):
    with frozen(T0):
        session = log(alice_client, -60, -30)
        alice_client.delete(f"{SESSIONS}{session['id']}/")
    with frozen(T0 + settings.SYNC_TOMBSTONE_RETENTION - timedelta(hours=1)):
        call_command("purge_tombstones", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Tombstone.objects.filter(user=alice).count() == 1


def test_sync_needs_a_token(api_client):
    assert api_client.get(SYNC).status_code == 401


def test_the_feed_never_shows_another_users_objects(alice_client, bob_client, alice, bob):
    with at(0):
        log(bob_client, -60, -30)
        bob_client.post("/api/journals/create/", {"content": "bob's"})
        kinds = {(c["type"], c["id"]) for c in alice_client.get(SYNC).json()["changes"]}
    assert kinds == {("profile", alice.pk)}


def test_a_full_save_of_a_stale_user_never_moves_the_counter_back(alice_client, alice):
    """The admin's form and `changepassword` save the whole row from an instance read
    earlier; the sync counters must survive it, or a cursor would skip the next changes."""
    stale = type(alice).objects.get(pk=alice.pk)
    cursor = alice_client.get(SYNC).json()["cursor"]
    alice_client.patch("/api/users/me/", {"display_name": "From the phone"})
    stale.display_name = "From the admin"  # as the admin's form saves: the whole row
    stale.save()
    alice_client.post("/api/journals/create/", {"content": "after the save"})
    kinds = [c["type"] for c in alice_client.get(SYNC, {"cursor": cursor}).json()["changes"]]
    assert kinds == ["profile", "journal"]


def test_a_cursor_ahead_of_the_account_is_a_410(alice_client, alice):
    """As after restoring a backup: the numbers the database hands out again would be skipped."""
    cursor = alice_client.get(SYNC).json()["cursor"]
    alice_client.post("/api/journals/create/", {"content": "x"})
    ahead = alice_client.get(SYNC, {"cursor": cursor}).json()["cursor"]
    type(alice).objects.filter(pk=alice.pk).update(sync_seq=0, profile_seq=0)  # the restore
    response = alice_client.get(SYNC, {"cursor": ahead})
    assert (response.status_code, response.json()["code"]) == (410, "sync_cursor_expired")


@pytest.mark.django_db(transaction=True)
def test_an_object_changed_while_its_page_is_read_shows_its_listed_state(alice, monkeypatch):
    """The page's list and its objects come from one snapshot: a session another device edits
    between the two is shown as it was when listed, and its edit comes later, once."""
    import threading

    from django.db import connection
    from django.utils import timezone

    from focus_sessions.services import focus_session_log, focus_session_update
    from focusflow.sync import feed

    session, _ = focus_session_log(
        user=alice,
        start_time=timezone.now() - timedelta(hours=2),
        end_time=timezone.now() - timedelta(hours=1),
        label="listed",
    )
    listed_seq = FocusSession.objects.get(pk=session.pk).sync_seq
    objects = feed._objects

    def objects_after_another_device_edits(kind, *, user, ids):
        if kind.name == "session":

            def edit():
                focus_session_update(user=alice, session_id=session.pk, label="edited")
                connection.close()

            other = threading.Thread(target=edit)
            other.start()
            other.join()
        return objects(kind, user=user, ids=ids)

    monkeypatch.setattr(feed, "_objects", objects_after_another_device_edits)
    latest, _ = feed.sync_position(user=alice)
    page = feed.sync_page(user=alice, after=0, limit=100, latest=latest, now=timezone.now())
    monkeypatch.setattr(feed, "_objects", objects)

    shown = [change for change in page.changes if change.kind == "session"]
    assert [(change.seq, change.data["label"]) for change in shown] == [(listed_seq, "listed")]
    latest, _ = feed.sync_position(user=alice)
    later = feed.sync_page(user=alice, after=page.seq, limit=100, latest=latest, now=timezone.now())
    assert [(change.kind, change.data["label"]) for change in later.changes] == [("session", "edited")]


# --- personal access tokens see the kinds their scopes may read ------------------------------


def token_client(user, scopes) -> APIClient:
    _, token = personal_token_create(user=user, name="dashboard", scopes=scopes, password_version_seen=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def kinds_seen(client, cursor=None) -> tuple[list[tuple[str, bool]], str]:
    body = client.get(SYNC, {"cursor": cursor} if cursor else {}).json()
    return [(change["type"], change["deleted"]) for change in body["changes"]], body["cursor"]


@pytest.mark.parametrize(
    ("scopes", "kinds"),
    [
        ([], {"profile"}),
        (["sessions:read"], {"profile", "session", "tag"}),
        (["sessions:write"], {"profile", "session", "tag"}),
        (["journals:read"], {"profile", "journal"}),
        (["sessions:read", "journals:write"], {"profile", "session", "tag", "journal"}),
    ],
)
def test_a_token_syncs_only_the_kinds_its_scopes_may_read(alice_client, alice, scopes, kinds):
    with at(0):
        session = log(alice_client, -60, -30)
        alice_client.post("/api/journals/create/", {"content": "private", "session": session["id"]})
        alice_client.post("/api/tags/", {"name": "deep work"})
        seen, _ = kinds_seen(token_client(alice, scopes))
    assert {kind for kind, _ in seen} == kinds


def test_a_token_sees_no_tombstone_of_a_kind_it_may_not_read_and_its_cursor_moves_past_them(
    alice_client, alice, django_assert_num_queries
):
    client = token_client(alice, ["sessions:read"])
    with at(0):
        session = log(alice_client, -60, -30)
        journal = alice_client.post("/api/journals/create/", {"content": "x"}).json()
        _, cursor = kinds_seen(client)
        alice_client.delete(f"/api/journals/{journal['id']}/")
        seen, cursor = kinds_seen(client, cursor)
        assert seen == []
        # the token; its account (cached with REDIS_URL, not in these tests); the account's position
        with django_assert_num_queries(3):
            assert kinds_seen(client, cursor)[0] == []
        alice_client.delete(f"{SESSIONS}{session['id']}/")
        assert kinds_seen(client, cursor)[0] == [("session", True)]
