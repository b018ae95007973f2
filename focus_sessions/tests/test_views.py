"""Every sessions row of the contract, as a client sees it."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils.dateparse import parse_datetime

from focus_sessions.models import FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import T0, at, streamed_json
from users.services import user_update
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/sessions"
START, STOP, PAUSE, RESUME = f"{BASE}/start/", f"{BASE}/stop/", f"{BASE}/pause/", f"{BASE}/resume/"
ACTIVE, HISTORY, STATS = f"{BASE}/active/", f"{BASE}/history/", f"{BASE}/stats/"
SESSION_FIELDS = {
    "id",
    "start_time",
    "end_time",
    "is_active",
    "created_at",
    "is_paused",
    "paused_seconds",
    "duration_seconds",
    "planned_minutes",
    "label",
    "tags",
    "server_now",
    "version",
    "updated_at",
    "client_id",
}


# --- start ----------------------------------------------------------------------------------


def test_start_returns_201_with_the_new_active_session(alice_client, alice):
    with at(0):
        response = alice_client.post(START, {"planned_minutes": 25, "label": "Write the report"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == SESSION_FIELDS
    assert parse_datetime(body["start_time"]) == T0
    assert parse_datetime(body["server_now"]) == T0
    assert body["end_time"] is None
    assert body["is_active"] is True and body["is_paused"] is False
    assert (body["duration_seconds"], body["paused_seconds"]) == (0, 0)
    assert (body["planned_minutes"], body["label"]) == (25, "Write the report")
    assert FocusSession.objects.get(pk=body["id"]).user == alice


def test_start_with_no_body_uses_defaults(alice_client):
    body = alice_client.post(START).json()
    assert body["planned_minutes"] is None
    assert body["label"] == ""


def test_start_ignores_a_client_supplied_start_time_or_owner(alice_client, alice, bob):
    with at(0):
        response = alice_client.post(
            START, {"start_time": "2000-01-01T00:00:00Z", "user": bob.pk, "is_active": False}
        )
    session = FocusSession.objects.get(pk=response.json()["id"])
    assert session.start_time == T0 and session.user == alice and session.is_active


def test_a_second_start_is_409_and_returns_the_running_session(alice_client):
    with at(0):
        first = alice_client.post(START, {"label": "first"}).json()
    with at(5):
        response = alice_client.post(START, {"label": "second"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "session_already_active"
    assert body["detail"]
    assert body["active_session"]["id"] == first["id"]
    assert body["active_session"]["label"] == "first"
    assert body["active_session"]["duration_seconds"] == 300
    assert FocusSession.objects.filter(is_active=True).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_minutes": 0}, "planned_minutes"),
        ({"planned_minutes": 721}, "planned_minutes"),
        ({"planned_minutes": -5}, "planned_minutes"),
        ({"planned_minutes": "soon"}, "planned_minutes"),
        ({"planned_minutes": 2.5}, "planned_minutes"),
        ({"planned_minutes": True}, "planned_minutes"),
        ({"planned_minutes": [25]}, "planned_minutes"),
        ({"planned_minutes": 10**30}, "planned_minutes"),
        ({"label": "x" * 101}, "label"),
        ({"label": "nul\x00byte"}, "label"),
        ({"label": {"a": 1}}, "label"),
        ({"label": None}, "label"),
    ],
)
def test_start_rejects_bad_fields_and_starts_nothing(alice_client, body, field):
    response = alice_client.post(START, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not FocusSession.objects.exists()


def test_start_accepts_the_boundaries(alice_client):
    body = alice_client.post(START, {"planned_minutes": 720, "label": "x" * 100}).json()
    assert body["planned_minutes"] == 720 and len(body["label"]) == 100


def test_start_makes_few_queries(alice_client, django_assert_max_num_queries):
    # user lookup; savepoint (the test's own transaction around the service's); the change
    # number, which also locks the account; the latest session (running? ended when?); insert;
    # the account's webhooks that want `session.started`; release.
    with django_assert_max_num_queries(7):
        assert alice_client.post(START).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", START),
        ("post", STOP),
        ("post", PAUSE),
        ("post", RESUME),
        ("get", ACTIVE),
        ("get", HISTORY),
        ("get", STATS),
    ],
)
def test_every_sessions_endpoint_needs_a_token(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- stop, pause, resume --------------------------------------------------------------------


def test_stop_returns_the_stopped_session(alice_client):
    with at(0):
        started = alice_client.post(START).json()
    with at(25):
        response = alice_client.post(STOP)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == started["id"]
    assert parse_datetime(body["end_time"]) == T0 + timedelta(minutes=25)
    assert body["is_active"] is False
    assert body["duration_seconds"] == 25 * 60


def test_stop_without_an_active_session_is_404_no_active_session(alice_client):
    response = alice_client.post(STOP)
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no active focus session.", "code": "no_active_session"}


def test_a_stopped_session_keeps_its_duration(alice_client):
    with at(0):
        alice_client.post(START)
    with at(10):
        alice_client.post(STOP)
    with at(500):
        body = alice_client.get(HISTORY).json()["results"][0]
    assert body["duration_seconds"] == 600
    assert body["is_active"] is False


def test_pause_and_resume_round_trip(alice_client):
    with at(0):
        alice_client.post(START)
    with at(10):
        paused = alice_client.post(PAUSE)
    assert paused.status_code == 200
    assert paused.json()["is_paused"] is True
    with at(14):
        during = alice_client.get(ACTIVE).json()
    assert during["paused_seconds"] == 240
    assert during["duration_seconds"] == 600  # the timer stands still while paused
    with at(15):
        resumed = alice_client.post(RESUME)
    assert resumed.status_code == 200
    assert resumed.json()["is_paused"] is False
    assert resumed.json()["paused_seconds"] == 300
    with at(20):
        stopped = alice_client.post(STOP).json()
    assert stopped["duration_seconds"] == 15 * 60
    assert stopped["paused_seconds"] == 300


def test_stop_while_paused_closes_the_pause_at_the_stop_time(alice_client):
    with at(0):
        alice_client.post(START)
    with at(5):
        alice_client.post(PAUSE)
    with at(20):
        body = alice_client.post(STOP).json()
    assert body["is_paused"] is False
    assert body["paused_seconds"] == 15 * 60
    assert body["duration_seconds"] == 5 * 60


@pytest.mark.parametrize(
    ("prepare", "path", "status", "code"),
    [
        ([], PAUSE, 404, "no_active_session"),
        ([], RESUME, 404, "no_active_session"),
        ([START, PAUSE], PAUSE, 409, "session_already_paused"),
        ([START], RESUME, 409, "session_not_paused"),
        ([START, STOP], PAUSE, 404, "no_active_session"),
    ],
)
def test_pause_and_resume_errors_carry_their_code(alice_client, prepare, path, status, code):
    for step in prepare:
        alice_client.post(step)
    response = alice_client.post(path)
    assert response.status_code == status
    assert response.json()["code"] == code


# --- active ---------------------------------------------------------------------------------


def test_active_returns_the_running_session_with_server_now(alice_client):
    with at(0):
        started = alice_client.post(START).json()
    with at(7):
        response = alice_client.get(ACTIVE)
    assert response.status_code == 200
    assert response.json()["id"] == started["id"]
    assert response.json()["duration_seconds"] == 420
    assert parse_datetime(response.json()["server_now"]) == T0 + timedelta(minutes=7)


def test_active_without_one_is_404_no_active_session(alice_client):
    FocusSessionFactory(user__email="someone@example.com", active=True)
    response = alice_client.get(ACTIVE)
    assert response.status_code == 404
    assert response.json()["code"] == "no_active_session"


def test_active_costs_two_queries(alice_client, django_assert_num_queries):
    alice_client.post(START)
    with django_assert_num_queries(2):  # user lookup + the active session
        assert alice_client.get(ACTIVE).status_code == 200


# --- bob and alice --------------------------------------------------------------------------


def test_bob_can_neither_see_nor_stop_nor_pause_alices_session(alice_client, bob_client):
    started = alice_client.post(START).json()
    assert bob_client.get(ACTIVE).status_code == 404
    assert bob_client.post(STOP).status_code == 404
    assert bob_client.post(PAUSE).status_code == 404
    assert bob_client.get(HISTORY).json()["results"] == []
    assert alice_client.get(ACTIVE).json()["id"] == started["id"]
    assert alice_client.get(ACTIVE).json()["is_paused"] is False
    # and bob's own start is independent of alice's
    assert bob_client.post(START).status_code == 201


# --- history --------------------------------------------------------------------------------


def test_history_lists_newest_start_first_with_cursor_pages(alice_client, alice):
    for day in range(1, 26):
        FocusSessionFactory(user=alice, start_time=datetime(2026, 10, day, 8, tzinfo=UTC))
    first = alice_client.get(HISTORY).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 20
    starts = [parse_datetime(s["start_time"]).day for s in first["results"]]
    assert starts == list(range(25, 5, -1))
    assert first["previous"] is None
    second = alice_client.get(first["next"]).json()
    assert [parse_datetime(s["start_time"]).day for s in second["results"]] == [5, 4, 3, 2, 1]
    assert second["next"] is None
    assert second["previous"] is not None


def test_history_page_size_is_honoured_and_clamped_to_100(alice_client, alice):
    FocusSessionFactory.create_batch(105, user=alice)
    assert len(alice_client.get(HISTORY, {"page_size": 5}).json()["results"]) == 5
    assert len(alice_client.get(HISTORY, {"page_size": 1000}).json()["results"]) == 100


@pytest.mark.parametrize("page_size", ["0", "-1", "ten", "1.5"])
def test_history_rejects_a_bad_page_size(alice_client, page_size):
    response = alice_client.get(HISTORY, {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%not-base64",
        base64.b64encode(b"p=not-a-date").decode(),
        base64.b64encode(b"o=-5&p=2026-01-01").decode(),
        base64.b64encode(b"r=x").decode(),
        base64.b64encode(b"p=\x00").decode(),
    ],
)
def test_history_rejects_a_forged_cursor(alice_client, alice, cursor):
    FocusSessionFactory(user=alice)
    response = alice_client.get(HISTORY, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59:59", "+14:00"])
def test_a_cursor_with_an_offset_postgresql_cannot_hold_is_no_500(alice_client, alice, offset):
    FocusSessionFactory.create_batch(3, user=alice)
    cursor = base64.b64encode(urlencode({"p": f"2026-11-25 01:00:00{offset}"}).encode()).decode()
    assert alice_client.get(HISTORY, {"cursor": cursor}).status_code == 200


def test_an_empty_page_size_means_the_default(alice_client, alice):
    FocusSessionFactory.create_batch(25, user=alice)
    assert len(alice_client.get(HISTORY, {"page_size": ""}).json()["results"]) == 20


def test_history_query_count_does_not_grow_with_page_size(alice_client, alice, django_assert_num_queries):
    FocusSessionFactory.create_batch(60, user=alice)
    for size in (1, 50):
        with django_assert_num_queries(2):  # user lookup + one page
            alice_client.get(HISTORY, {"page_size": size})


def test_history_filters_by_is_active(alice_client, alice):
    FocusSessionFactory.create_batch(2, user=alice)
    running = FocusSessionFactory(user=alice, active=True)
    active = alice_client.get(HISTORY, {"is_active": "true"}).json()["results"]
    assert [s["id"] for s in active] == [running.pk]
    assert len(alice_client.get(HISTORY, {"is_active": "false"}).json()["results"]) == 2


def test_history_dates_are_days_on_the_users_own_calendar(client_for):

    kiri = UserFactory(timezone="Pacific/Kiritimati")  # UTC+14
    # 2026-03-01 11:00 UTC is already 2026-03-02 01:00 in Kiritimati.
    late = FocusSessionFactory(user=kiri, start_time=datetime(2026, 3, 1, 11, tzinfo=UTC))
    early = FocusSessionFactory(user=kiri, start_time=datetime(2026, 3, 1, 9, tzinfo=UTC))
    client = client_for(kiri)
    on_second = client.get(HISTORY, {"from": "2026-03-02", "to": "2026-03-02"}).json()["results"]
    assert [s["id"] for s in on_second] == [late.pk]
    on_first = client.get(HISTORY, {"from": "2026-03-01", "to": "2026-03-01"}).json()["results"]
    assert [s["id"] for s in on_first] == [early.pk]
    assert len(client.get(HISTORY, {"from": "2026-03-01"}).json()["results"]) == 2
    assert len(client.get(HISTORY, {"to": "2026-03-01"}).json()["results"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"from": "yesterday"},
        {"to": "2026-02-30"},
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"is_active": "maybe"},
        {"from": "2026-03-01T00:00:00"},
    ],
)
def test_history_rejects_bad_filters(alice_client, query):
    response = alice_client.get(HISTORY, query)
    assert response.status_code == 400
    # The error names the parameter at fault (`to` when the range is reversed).
    field = "to" if set(query) == {"from", "to"} else next(iter(query))
    assert set(response.json()) == {field}


@pytest.mark.parametrize("timezone_name", ["Pacific/Kiritimati", "America/Adak"])
def test_history_survives_the_extremes_of_the_calendar(client_for, timezone_name):

    client = client_for(UserFactory(timezone=timezone_name))
    response = client.get(HISTORY, {"from": "2000-01-01", "to": "9998-12-31"})  # the widest range
    assert response.status_code == 200
    assert client.get(HISTORY, {"from": "0001-01-01", "to": "9999-12-31"}).status_code == 400


# --- stats ----------------------------------------------------------------------------------


def test_stats_default_to_seven_local_days_ending_today(alice_client, alice):
    user_update(user=alice, daily_goal_minutes=30)  # through the service: the goal follows
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    FocusSessionFactory(user=alice, start_time=now - timedelta(hours=3), minutes=20)
    FocusSessionFactory(user=alice, start_time=now - timedelta(hours=2), minutes=15)
    FocusSessionFactory(user=alice, start_time=now - timedelta(days=2), minutes=10)
    FocusSessionFactory(user=alice, start_time=now - timedelta(days=30), minutes=50)  # outside
    FocusSessionFactory(user=alice, start_time=now - timedelta(minutes=5), active=True)  # not completed
    with time_machine.travel(now, tick=False):
        response = alice_client.get(STATS)
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "UTC"
    assert [d["date"] for d in body["days"]] == [f"2026-11-{d}" for d in range(14, 21)]
    today, two_days_ago = body["days"][-1], body["days"][-3]
    goal = body["goals"][0]["goal"]  # daily_goal_minutes is this goal (tag null, period day)
    assert today == {
        "date": "2026-11-20",
        "sessions": 2,
        "focus_seconds": 35 * 60,
        "goal_met": True,
        "goals_met": [goal],
    }
    assert two_days_ago == {
        "date": "2026-11-18",
        "sessions": 1,
        "focus_seconds": 600,
        "goal_met": False,
        "goals_met": [],
    }
    assert body["total_focus_seconds"] == 45 * 60
    assert body["current_streak_days"] == 1
    assert body["longest_streak_days"] == 1


def test_stats_goal_met_is_false_without_a_goal(alice_client, alice):
    FocusSessionFactory(user=alice, start_time=datetime(2026, 11, 20, 8, tzinfo=UTC), minutes=300)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        days = alice_client.get(STATS, {"days": 1}).json()["days"]
    assert days == [
        {"date": "2026-11-20", "sessions": 1, "focus_seconds": 18000, "goal_met": False, "goals_met": []}
    ]


def test_stats_streaks_count_consecutive_local_days(alice_client, alice):
    def on(day: int):
        FocusSessionFactory(user=alice, start_time=datetime(2026, 11, day, 10, tzinfo=UTC))

    for day in (1, 2, 3, 4, 10, 11, 12, 18, 19):
        on(day)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        body = alice_client.get(STATS).json()
    # today (20th) has nothing yet: the streak ending yesterday is still alive
    assert body["current_streak_days"] == 2
    assert body["longest_streak_days"] == 4
    with time_machine.travel(datetime(2026, 11, 21, 12, tzinfo=UTC), tick=False):
        assert alice_client.get(STATS).json()["current_streak_days"] == 0


def test_stats_count_on_the_users_calendar_in_far_off_zones(client_for):

    kiri = UserFactory(timezone="Pacific/Kiritimati")  # UTC+14
    adak = UserFactory(timezone="America/Adak")  # UTC-10 in winter
    instant = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)  # Kiritimati 16th 00:30, Adak 15th 00:30
    for user in (kiri, adak):
        FocusSessionFactory(user=user, start_time=instant, minutes=10)
        FocusSessionFactory(user=user, start_time=instant - timedelta(hours=1), minutes=5)
    with time_machine.travel(datetime(2026, 1, 16, 12, tzinfo=UTC), tick=False):
        kiri_days = client_for(kiri).get(STATS, {"days": 3}).json()
        adak_days = client_for(adak).get(STATS, {"days": 3}).json()
    assert kiri_days["timezone"] == "Pacific/Kiritimati"
    # Kiritimati: now is the 17th; 10:30 UTC is the 16th 00:30, 09:30 UTC the 15th 23:30
    assert [(d["date"], d["sessions"]) for d in kiri_days["days"]] == [
        ("2026-01-15", 1),
        ("2026-01-16", 1),
        ("2026-01-17", 0),
    ]
    # Adak: now is the 16th 02:00; 10:30 UTC is the 15th 00:30, 09:30 UTC the 14th 23:30
    assert [(d["date"], d["sessions"]) for d in adak_days["days"]] == [
        ("2026-01-14", 1),
        ("2026-01-15", 1),
        ("2026-01-16", 0),
    ]


def test_stats_follow_a_dst_change(client_for):

    user = UserFactory(timezone="America/New_York")  # clocks spring forward 2026-03-08 02:00
    # 2026-03-09 03:30 UTC is 23:30 on the 8th (EDT, UTC-4); a day earlier it would be EST.
    FocusSessionFactory(user=user, start_time=datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    FocusSessionFactory(user=user, start_time=datetime(2026, 3, 8, 4, 30, tzinfo=UTC))  # 7th 23:30 EST
    with time_machine.travel(datetime(2026, 3, 9, 16, tzinfo=UTC), tick=False):
        days = client_for(user).get(STATS, {"days": 3}).json()["days"]
    assert [(d["date"], d["sessions"]) for d in days] == [
        ("2026-03-07", 1),
        ("2026-03-08", 1),
        ("2026-03-09", 0),
    ]


def test_a_session_crossing_midnight_counts_on_the_day_it_started(alice_client, alice):
    FocusSessionFactory(user=alice, start_time=datetime(2026, 11, 19, 23, 50, tzinfo=UTC), minutes=30)
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        days = alice_client.get(STATS, {"days": 2}).json()["days"]
    assert [(d["date"], d["focus_seconds"]) for d in days] == [("2026-11-19", 1800), ("2026-11-20", 0)]


@pytest.mark.parametrize("days", ["0", "367", "-1", "week", "1.5", "7\x00"])
def test_stats_reject_a_bad_days_value(alice_client, days):
    response = alice_client.get(STATS, {"days": days})
    assert response.status_code == 400
    assert "days" in response.json()


def test_stats_accept_a_year_and_a_day(alice_client):
    assert len(alice_client.get(STATS, {"days": 366}).json()["days"]) == 366


def test_stats_cost_two_queries_whatever_the_history(alice_client, alice, django_assert_num_queries):
    # the user; the window's days, tags and goals and the streaks from the rollup, in one statement
    with django_assert_num_queries(2):
        alice_client.get(STATS, {"days": 366})
    for day in range(1, 29):
        for hour in (8, 9, 10):
            FocusSessionFactory(user=alice, start_time=datetime(2026, 10, day, hour, tzinfo=UTC))
    with django_assert_num_queries(2):
        alice_client.get(STATS, {"days": 366})


# --- export and account deletion ------------------------------------------------------------


def test_export_includes_every_session(alice_client, alice, bob):
    mine = FocusSessionFactory.create_batch(3, user=alice)
    FocusSessionFactory(user=bob)
    body = streamed_json(alice_client.get("/api/users/me/export/"))
    assert sorted(s["id"] for s in body["focus_sessions"]) == sorted(s.pk for s in mine)


def test_deleting_the_account_deletes_its_sessions(alice_client, alice, password):
    FocusSessionFactory.create_batch(2, user=alice)
    alice_client.post(START)
    assert alice_client.delete("/api/users/me/", {"password": password}).status_code == 204
    assert not FocusSession.objects.exists()
