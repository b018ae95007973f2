"""Offline use and several devices: versions, client ids, late actions, logged sessions,
corrections, deletion and overlaps, over the API (contract v1.1)."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from focus_sessions.models import FocusSession
from focus_sessions.services import sessions_overlapping
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import T0, at, frozen
from journals.tests.factories import JournalFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/sessions"
START, STOP, PAUSE, RESUME = f"{BASE}/start/", f"{BASE}/stop/", f"{BASE}/pause/", f"{BASE}/resume/"
STATS = f"{BASE}/stats/"


def one(session_or_id) -> str:
    return f"{BASE}/{getattr(session_or_id, 'pk', session_or_id)}/"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def log_body(start_minutes: float, end_minutes: float, **extra) -> dict:
    """A logged session from T0 + start to T0 + end minutes."""
    return {
        "start_time": iso(T0 + timedelta(minutes=start_minutes)),
        "end_time": iso(T0 + timedelta(minutes=end_minutes)),
        **extra,
    }


# --- versions and conditional writes ----------------------------------------------------------


def test_one_session_carries_its_version_as_etag_and_every_change_bumps_it(alice_client):
    with at(0):
        created = alice_client.post(START).json()
    assert created["version"] == 1
    response = alice_client.get(one(created["id"]))
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    with at(5):
        assert alice_client.post(PAUSE).json()["version"] == 2
    with at(7):
        stopped = alice_client.post(STOP).json()
    assert stopped["version"] == 3
    assert alice_client.get(one(created["id"]))["ETag"] == '"3"'
    assert stopped["updated_at"] == iso(T0 + timedelta(minutes=7))


def test_if_none_match_with_the_current_version_is_a_304(alice_client, alice):
    session = FocusSessionFactory(user=alice)
    assert alice_client.get(one(session), HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert alice_client.get(one(session), HTTP_IF_NONE_MATCH='"0"').status_code == 200


def test_a_stale_if_match_is_a_412_with_the_current_session_and_changes_nothing(alice_client, alice):
    session = FocusSessionFactory(user=alice, label="first")
    assert alice_client.patch(one(session), {"label": "second"}, HTTP_IF_MATCH='"1"').status_code == 200
    response = alice_client.patch(one(session), {"label": "third"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "version_conflict"
    assert (body["current"]["label"], body["current"]["version"]) == ("second", 2)
    session.refresh_from_db()
    assert (session.label, session.version) == ("second", 2)
    response = alice_client.delete(one(session), HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert FocusSession.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize("header", ['"2"', '"7", "2"', "*"])
def test_if_match_accepts_the_current_version(alice_client, alice, header):
    session = FocusSessionFactory(user=alice, version=2)
    response = alice_client.patch(one(session), {"label": "ok"}, HTTP_IF_MATCH=header)
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 3
    assert response["ETag"] == '"3"'


def test_without_if_match_the_last_writer_wins(alice_client, alice):
    session = FocusSessionFactory(user=alice)
    alice_client.patch(one(session), {"label": "phone"})
    response = alice_client.patch(one(session), {"label": "web"})
    assert (response.status_code, response.json()["label"], response.json()["version"]) == (200, "web", 3)


def test_if_match_guards_stop_pause_and_resume_of_the_running_session(alice_client):
    with at(0):
        alice_client.post(START)
    with at(1):
        response = alice_client.post(PAUSE, HTTP_IF_MATCH='"5"')
    assert (response.status_code, response.json()["code"]) == (412, "version_conflict")
    assert response.json()["current"]["is_paused"] is False
    with at(2):
        assert alice_client.post(STOP, HTTP_IF_MATCH='"1"').status_code == 200


def test_a_change_that_changes_nothing_keeps_the_version(alice_client, alice):
    session = FocusSessionFactory(user=alice, label="same")
    response = alice_client.patch(one(session), {"label": "same"})
    assert (response.status_code, response.json()["version"]) == (200, 1)


def test_bob_gets_a_404_for_alices_session_whatever_he_sends(bob_client, alice):
    session = FocusSessionFactory(user=alice, label="mine")
    assert bob_client.get(one(session)).status_code == 404
    assert bob_client.patch(one(session), {"label": "x"}, HTTP_IF_MATCH='"1"').status_code == 404
    assert bob_client.patch(one(session), {"label": "x"}, HTTP_IF_MATCH='"9"').status_code == 404
    assert bob_client.delete(one(session), HTTP_IF_MATCH='"1"').status_code == 404
    session.refresh_from_db()
    assert (session.label, session.version) == ("mine", 1)


def test_unknown_ids_are_404s(alice_client):
    assert alice_client.get(one(999_999)).status_code == 404
    assert alice_client.get(f"{BASE}/abc/").status_code == 404


# --- client ids ---------------------------------------------------------------------------------


def test_a_start_retried_with_its_client_id_returns_the_stored_session_and_changes_nothing(
    alice_client, alice
):
    client_id = str(uuid.uuid4())
    with at(0):
        first = alice_client.post(START, {"client_id": client_id, "label": "Essay"})
    with at(1):
        again = alice_client.post(START, {"label": "Essay", "client_id": client_id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() | {"server_now": None, "duration_seconds": None} == first.json() | {
        "server_now": None,
        "duration_seconds": None,
    }
    assert first.json()["client_id"] == client_id
    assert FocusSession.objects.filter(user=alice).count() == 1
    alice.refresh_from_db()
    assert alice.sync_seq == 1  # the retry took no change number either


def test_a_client_id_sent_again_with_other_fields_is_a_409_with_the_existing_session(alice_client):
    client_id = str(uuid.uuid4())
    with at(0):
        first = alice_client.post(START, {"client_id": client_id, "label": "Essay"}).json()
    with at(1):
        response = alice_client.post(START, {"client_id": client_id, "label": "Email"})
    assert response.status_code == 409
    assert response.json()["code"] == "client_id_conflict"
    assert response.json()["existing"]["id"] == first["id"]


def test_a_retried_start_is_a_200_even_after_the_session_stopped(alice_client):
    client_id = str(uuid.uuid4())
    with at(0):
        alice_client.post(START, {"client_id": client_id})
    with at(25):
        alice_client.post(STOP)
    with at(30):
        response = alice_client.post(START, {"client_id": client_id})
    assert (response.status_code, response.json()["is_active"]) == (200, False)


def test_a_logged_session_retried_with_its_client_id_is_stored_once(alice_client, alice):
    body = log_body(-120, -95, client_id=str(uuid.uuid4()), label="Train ride", paused_seconds=60)
    with at(0):
        first = alice_client.post(f"{BASE}/", body)
        # The same instants written with another offset are the same request.
        shifted = {
            **body,
            "start_time": (T0 - timedelta(minutes=120)).astimezone().isoformat(),
        }
        again = alice_client.post(f"{BASE}/", shifted)
        clash = alice_client.post(f"{BASE}/", {**body, "label": "Plane"})
    assert (first.status_code, again.status_code, clash.status_code) == (201, 200, 409)
    assert again.json()["id"] == first.json()["id"] == clash.json()["existing"]["id"]
    assert FocusSession.objects.filter(user=alice).count() == 1


def test_client_ids_are_per_user_so_bob_reusing_alices_makes_his_own(alice_client, bob_client, alice, bob):
    client_id = str(uuid.uuid4())
    with at(0):
        mine = alice_client.post(START, {"client_id": client_id}).json()
        his = bob_client.post(START, {"client_id": client_id})
    assert his.status_code == 201
    assert his.json()["id"] != mine["id"]
    assert FocusSession.objects.get(user=bob).client_id == uuid.UUID(client_id)


@pytest.mark.parametrize("client_id", ["not-a-uuid", 5, "", {"a": 1}])
def test_a_client_id_must_be_a_uuid(alice_client, client_id):
    response = alice_client.post(START, {"client_id": client_id}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"client_id"}


def test_the_database_holds_one_session_per_client_id_and_user(alice):
    client_id = uuid.uuid4()
    FocusSessionFactory(user=alice, client_id=client_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        FocusSessionFactory(user=alice, client_id=client_id)


# --- late actions -------------------------------------------------------------------------------


def test_a_start_sent_late_begins_when_the_device_started(alice_client):
    with at(120):
        response = alice_client.post(START, {"at": iso(T0)})
    assert response.status_code == 201
    assert response.json()["start_time"] == iso(T0)
    assert response.json()["duration_seconds"] == 120 * 60


def test_late_pause_resume_and_stop_keep_the_devices_times(alice_client):
    with at(0):
        alice_client.post(START)
    with at(60):  # the phone was offline; it sends what it did, with when it did it
        assert alice_client.post(PAUSE, {"at": iso(T0 + timedelta(minutes=10))}).status_code == 200
        assert alice_client.post(RESUME, {"at": iso(T0 + timedelta(minutes=15))}).status_code == 200
        stopped = alice_client.post(STOP, {"at": iso(T0 + timedelta(minutes=40))}).json()
    assert stopped["end_time"] == iso(T0 + timedelta(minutes=40))
    assert stopped["paused_seconds"] == 5 * 60
    assert stopped["duration_seconds"] == 35 * 60


def test_a_late_stop_of_a_paused_session_closes_the_pause_at_the_stop(alice_client):
    with at(0):
        alice_client.post(START)
    with at(10):
        alice_client.post(PAUSE)
    with at(50):
        stopped = alice_client.post(STOP, {"at": iso(T0 + timedelta(minutes=30))}).json()
    assert (stopped["paused_seconds"], stopped["duration_seconds"]) == (20 * 60, 10 * 60)


@pytest.mark.parametrize(
    ("offset", "message"),
    [(timedelta(hours=24, seconds=1), "24 hours"), (timedelta(minutes=-5, seconds=-1), "5 minutes")],
    ids=["over-a-day-ago", "over-5-minutes-ahead"],
)
def test_at_is_bounded_by_a_day_back_and_five_minutes_ahead(alice_client, alice, offset, message):
    with at(0):
        response = alice_client.post(START, {"at": iso(T0 - offset)})
    assert response.status_code == 400
    assert message in response.json()["at"][0]
    assert not FocusSession.objects.filter(user=alice).exists()


def test_at_may_run_up_to_five_minutes_ahead_for_clock_skew(alice_client):
    with at(0):
        response = alice_client.post(START, {"at": iso(T0 + timedelta(minutes=5))})
    assert response.status_code == 201


@pytest.mark.parametrize("value", ["2026-11-20T09:00:00", "yesterday", "2026-02-30T10:00:00Z", 12])
def test_at_must_be_an_instant_with_its_offset(alice_client, value):
    with at(0):
        response = alice_client.post(START, {"at": value}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"at"}


@pytest.mark.parametrize(
    ("steps", "late"),
    [
        ([], ("stop", -1)),  # a stop before the start
        ([("pause", 10)], ("stop", 9)),  # a stop before the pause it closes
        ([("pause", 10)], ("resume", 9)),  # a resume before its pause
        ([("pause", 10), ("resume", 12)], ("pause", 11)),  # a pause before the last resume
        ([], ("pause", -1)),  # a pause before the start
    ],
)
def test_late_actions_must_keep_the_sessions_events_in_order(alice_client, steps, late):
    with at(0):
        alice_client.post(START)
    for action, minute in steps:
        with at(minute):
            alice_client.post(f"{BASE}/{action}/")
    with at(30):
        action, minute = late
        before = alice_client.get(f"{BASE}/active/").json()
        response = alice_client.post(f"{BASE}/{action}/", {"at": iso(T0 + timedelta(minutes=minute))})
        after = alice_client.get(f"{BASE}/active/").json()
    assert response.status_code == 400
    assert "Must not be before" in response.json()["at"][0]
    assert after == before  # nothing changed


def test_stop_pause_and_resume_without_a_body_still_work(alice_client):
    with at(0):
        alice_client.post(START)
    with at(1):
        assert alice_client.post(PAUSE, "", content_type="application/json").status_code == 200


# --- logged sessions ----------------------------------------------------------------------------


def test_a_logged_session_is_stored_finished_with_its_focus_time(alice_client):
    with at(0):
        response = alice_client.post(
            f"{BASE}/", log_body(-90, -30, paused_seconds=600, planned_minutes=50, label="Offline")
        )
    assert response.status_code == 201
    body = response.json()
    assert (body["is_active"], body["is_paused"]) == (False, False)
    assert (body["start_time"], body["end_time"]) == (
        iso(T0 - timedelta(minutes=90)),
        iso(T0 - timedelta(minutes=30)),
    )
    assert (body["paused_seconds"], body["duration_seconds"]) == (600, 50 * 60)
    assert (body["planned_minutes"], body["label"], body["version"], body["client_id"]) == (
        50,
        "Offline",
        1,
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (log_body(-30, -30), "end_time"),  # not after the start
        (log_body(-30, -40), "end_time"),
        (log_body(-10, 5.1), "end_time"),  # over 5 minutes in the future
        (log_body(-24 * 60 - 31, -30), "end_time"),  # over 24 hours
        (log_body(-60, -30, paused_seconds=-1), "paused_seconds"),
        (log_body(-60, -30, paused_seconds=30 * 60), "paused_seconds"),  # not shorter than it
        (log_body(-60, -30, paused_seconds=1.5), "paused_seconds"),
        ({"start_time": iso(T0)}, "end_time"),
        ({"end_time": iso(T0)}, "start_time"),
        ({"start_time": "2026-11-20T08:00:00", "end_time": iso(T0)}, "start_time"),
        (log_body(-60, -30, planned_minutes=0), "planned_minutes"),
        (log_body(-60, -30, label="x" * 101), "label"),
    ],
)
def test_a_log_with_impossible_times_is_a_400_and_stores_nothing(alice_client, alice, body, field):
    with at(0):
        response = alice_client.post(f"{BASE}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not FocusSession.objects.filter(user=alice).exists()


def test_a_session_of_exactly_24_hours_ending_5_minutes_ahead_is_fine(alice_client):
    with at(0):
        response = alice_client.post(f"{BASE}/", log_body(5 - 24 * 60, 5))
    assert response.status_code == 201


def test_there_is_no_list_of_sessions_at_the_collection_path(alice_client):
    assert alice_client.get(f"{BASE}/").status_code == 405
    assert alice_client.put(one(1), {}).status_code in (404, 405)


# --- no overlaps --------------------------------------------------------------------------------


def test_a_log_overlapping_another_session_is_a_409_naming_it(alice_client, alice):
    with at(0):
        first = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        response = alice_client.post(f"{BASE}/", log_body(-45, -20))
    assert response.status_code == 409
    assert response.json()["code"] == "session_overlap"
    assert response.json()["conflicting_session"]["id"] == first["id"]
    assert FocusSession.objects.filter(user=alice).count() == 1


def test_back_to_back_sessions_do_not_overlap(alice_client):
    with at(0):
        assert alice_client.post(f"{BASE}/", log_body(-60, -30)).status_code == 201
        assert alice_client.post(f"{BASE}/", log_body(-30, -10)).status_code == 201
        assert alice_client.post(f"{BASE}/", log_body(-90, -60)).status_code == 201


def test_the_running_session_extends_to_now_and_beyond(alice_client):
    with at(0):
        running = alice_client.post(START, {"at": iso(T0 - timedelta(minutes=30))}).json()
        response = alice_client.post(f"{BASE}/", log_body(-10, -5))
    assert (response.status_code, response.json()["conflicting_session"]["id"]) == (409, running["id"])
    with at(0):
        assert alice_client.post(f"{BASE}/", log_body(-60, -30)).status_code == 201


def test_a_late_start_inside_another_session_is_a_409_and_starts_nothing(alice_client, alice):
    with at(0):
        logged = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        response = alice_client.post(START, {"at": iso(T0 - timedelta(minutes=40))})
    assert (response.status_code, response.json()["code"]) == (409, "session_overlap")
    assert response.json()["conflicting_session"]["id"] == logged["id"]
    assert not FocusSession.objects.filter(user=alice, is_active=True).exists()


def test_an_edit_that_would_overlap_is_a_409_and_changes_nothing(alice_client, alice):
    with at(0):
        early = alice_client.post(f"{BASE}/", log_body(-120, -90)).json()
        late = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        response = alice_client.patch(one(late["id"]), {"start_time": iso(T0 - timedelta(minutes=100))})
    assert response.status_code == 409
    assert response.json()["conflicting_session"]["id"] == early["id"]
    assert FocusSession.objects.get(pk=late["id"]).start_time == T0 - timedelta(minutes=60)


def test_the_database_refuses_overlapping_sessions_on_its_own(alice):
    FocusSessionFactory(user=alice, start_time=T0, minutes=30)
    with pytest.raises(IntegrityError), transaction.atomic():
        FocusSessionFactory(user=alice, start_time=T0 + timedelta(minutes=29), minutes=30)
    with pytest.raises(IntegrityError), transaction.atomic():
        FocusSessionFactory(user=alice, active=True, start_time=T0 - timedelta(hours=1))
    FocusSessionFactory(user=UserFactory(), start_time=T0, minutes=30)  # another user: fine


def test_the_python_overlap_rule_agrees_with_postgresqls_constraint(alice):
    """`sessions_overlapping` names the session in the way when the exclusion constraint
    refuses a write: it must say yes exactly when PostgreSQL refuses."""
    rng = random.Random(7)
    FocusSessionFactory(user=alice, start_time=T0, minutes=30)  # [0, 30)
    FocusSessionFactory(user=alice, start_time=T0 + timedelta(minutes=40), minutes=0)  # empty
    FocusSessionFactory(user=alice, active=True, start_time=T0 + timedelta(minutes=60))  # [60, inf)
    for _ in range(300):
        start = rng.randint(-20, 80)
        length = rng.choice([None, 0, rng.randint(1, 40)])
        begin = T0 + timedelta(minutes=start)
        end = None if length is None else begin + timedelta(minutes=length)
        predicted = sessions_overlapping(user=alice, start=begin, end=end).exists()
        try:
            with transaction.atomic():
                FocusSession.objects.create(
                    user=alice,
                    start_time=begin,
                    end_time=end,
                    is_active=False,
                    focus_seconds=0,
                )
                transaction.set_rollback(True)
            refused = False
        except IntegrityError:
            refused = True
        if end is None:  # a second running session is refused by another constraint
            continue
        assert predicted == refused, (start, length)


def test_a_start_after_a_stop_on_a_server_whose_clock_runs_behind_begins_at_that_stop(alice_client, alice):
    """Two app servers' clocks differ by a little: the stop written by one may lie a moment in
    the other's future. The next start begins where that session ended, not before."""
    with frozen(T0 + timedelta(seconds=1)):
        alice_client.post(
            f"{BASE}/",
            {"start_time": iso(T0 - timedelta(minutes=20)), "end_time": iso(T0 + timedelta(seconds=2))},
        )
        response = alice_client.post(START)
    assert response.status_code == 201
    assert response.json()["start_time"] == iso(T0 + timedelta(seconds=2))


# --- corrections --------------------------------------------------------------------------------


def test_a_stopped_session_can_be_corrected_and_its_focus_time_follows(alice_client):
    with at(0):
        logged = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        response = alice_client.patch(
            one(logged["id"]),
            {"end_time": iso(T0 - timedelta(minutes=10)), "paused_seconds": 300, "label": "Longer"},
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["end_time"], body["paused_seconds"], body["duration_seconds"]) == (
        iso(T0 - timedelta(minutes=10)),
        300,
        45 * 60,
    )
    assert (body["label"], body["version"]) == ("Longer", 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_time": iso(T0 - timedelta(minutes=61))}, "end_time"),
        ({"start_time": iso(T0 - timedelta(hours=25))}, "end_time"),
        ({"paused_seconds": 1800}, "paused_seconds"),
        ({"end_time": iso(T0 + timedelta(minutes=6))}, "end_time"),
        ({"end_time": None}, "end_time"),
        ({"planned_minutes": 721}, "planned_minutes"),
    ],
)
def test_a_correction_follows_the_rules_of_a_logged_session(alice_client, change, field):
    with at(0):
        logged = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        response = alice_client.patch(one(logged["id"]), change, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_the_times_of_a_running_session_cannot_be_corrected_but_its_label_can(alice_client):
    with at(0):
        running = alice_client.post(START).json()
        refused = alice_client.patch(one(running["id"]), {"start_time": iso(T0 - timedelta(minutes=5))})
        relabelled = alice_client.patch(one(running["id"]), {"label": "Deep work", "planned_minutes": 50})
    assert refused.status_code == 400
    assert "stop it" in refused.json()["start_time"][0]
    assert (relabelled.status_code, relabelled.json()["label"], relabelled.json()["planned_minutes"]) == (
        200,
        "Deep work",
        50,
    )


def test_stats_follow_corrections_and_deletions(alice_client, alice):
    with at(0):
        logged = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        assert alice_client.get(STATS, {"days": 3}).json()["total_focus_seconds"] == 1800
        alice_client.patch(one(logged["id"]), {"end_time": iso(T0 - timedelta(minutes=20))})
        assert alice_client.get(STATS, {"days": 3}).json()["total_focus_seconds"] == 2400
        # Moved to the day before: it counts there now.
        alice_client.patch(
            one(logged["id"]),
            {
                "start_time": iso(T0 - timedelta(days=1, minutes=60)),
                "end_time": iso(T0 - timedelta(days=1, minutes=30)),
            },
        )
        days = {d["date"]: d["focus_seconds"] for d in alice_client.get(STATS, {"days": 3}).json()["days"]}
        assert (days["2026-11-19"], days["2026-11-20"]) == (1800, 0)
        alice_client.delete(one(logged["id"]))
        assert alice_client.get(STATS, {"days": 3}).json()["total_focus_seconds"] == 0


def test_a_logged_session_across_midnight_counts_on_its_local_start_day(client_for):
    paris = UserFactory(timezone="Europe/Paris")
    client = client_for(paris)
    with frozen(datetime(2026, 3, 30, 12, tzinfo=UTC)):
        # 23:30 to 00:30 Paris time, the night after the switch to summer time.
        client.post(
            f"{BASE}/",
            {"start_time": "2026-03-29T23:30:00+02:00", "end_time": "2026-03-30T00:30:00+02:00"},
        )
        days = {d["date"]: d for d in client.get(STATS, {"days": 2}).json()["days"]}
    assert (days["2026-03-29"]["focus_seconds"], days["2026-03-30"]["focus_seconds"]) == (3600, 0)


# --- deletion -----------------------------------------------------------------------------------


def test_a_session_can_be_deleted_and_a_running_one_discarded(alice_client, alice):
    with at(0):
        logged = alice_client.post(f"{BASE}/", log_body(-60, -30)).json()
        running = alice_client.post(START).json()
        assert alice_client.delete(one(logged["id"])).status_code == 204
        assert alice_client.delete(one(running["id"])).status_code == 204
        assert alice_client.get(f"{BASE}/active/").status_code == 404
        assert alice_client.post(START).status_code == 201  # started by mistake, started again
    assert alice_client.get(one(logged["id"])).status_code == 404
    assert alice_client.delete(one(logged["id"])).status_code == 404


def test_a_session_with_journals_cannot_be_deleted(alice_client, alice):
    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=session)
    response = alice_client.delete(one(session))
    assert (response.status_code, response.json()["code"]) == (409, "session_has_journals")
    assert FocusSession.objects.filter(pk=session.pk).exists()


# --- what they cost -----------------------------------------------------------------------------


def test_the_new_endpoints_make_a_fixed_small_number_of_queries(
    alice_client, alice, django_assert_max_num_queries
):
    with at(0):
        FocusSessionFactory.create_batch(30, user=alice)
        session = FocusSessionFactory(user=alice, start_time=T0 - timedelta(hours=1))
        # Each write also asks for the account's webhooks that want its event (one query).
        # user; savepoint; change number (the account lock); insert; the day's rollup; webhooks;
        # release; and on a day's first session, the streaks on either side and the one to save.
        with django_assert_max_num_queries(7):
            assert alice_client.post(f"{BASE}/", log_body(-20, -10)).status_code == 201
        with django_assert_max_num_queries(10):
            assert alice_client.post(f"{BASE}/", log_body(-3 * 24 * 60, -3 * 24 * 60 + 10)).status_code == 201
        with django_assert_max_num_queries(2):  # user; the session
            assert alice_client.get(one(session)).status_code == 200
        # user; savepoint; change number; the session; update; webhooks; release
        with django_assert_max_num_queries(7):
            assert alice_client.patch(one(session), {"label": "x"}).status_code == 200
        # user; savepoint; change number; the session; its journals; delete; the day's
        # rollup; tombstone; webhooks; release
        with django_assert_max_num_queries(10):
            assert alice_client.delete(one(session)).status_code == 204
        # as a start: user, savepoint, number, latest, insert, webhooks, release
        with django_assert_max_num_queries(7):
            alice_client.post(START, {"at": iso(T0 - timedelta(minutes=5))})
        # user; savepoint; number; the running session; update; the day's rollup; webhooks; release
        with django_assert_max_num_queries(8):
            assert alice_client.post(STOP, {"at": iso(T0 - timedelta(minutes=1))}).status_code == 200
