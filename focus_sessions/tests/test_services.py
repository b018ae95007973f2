"""The rules of a session, on the service layer and in the database's constraints."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from focus_sessions import services
from focus_sessions.models import FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import T0, at

pytestmark = pytest.mark.django_db


def test_start_uses_the_server_clock(alice):
    with at(0):
        session, created = services.focus_session_start(user=alice, planned_minutes=25, label="Essay")
    assert created
    assert session.start_time == T0
    assert session.is_active and session.end_time is None
    assert (session.planned_minutes, session.label) == (25, "Essay")


def test_a_second_start_raises_with_the_running_session(alice):
    first, _ = services.focus_session_start(user=alice)
    with pytest.raises(services.SessionAlreadyActive) as raised:
        services.focus_session_start(user=alice)
    assert raised.value.session == first
    assert FocusSession.objects.filter(user=alice).count() == 1


def test_stop_freezes_the_focus_time_excluding_pauses(alice):
    with at(0):
        services.focus_session_start(user=alice)
    with at(10):
        services.focus_session_pause(user=alice)
    with at(15):
        services.focus_session_resume(user=alice)
    with at(30):
        session = services.focus_session_stop(user=alice)
    assert session.end_time == T0 + timedelta(minutes=30)
    assert not session.is_active
    assert session.paused_duration == timedelta(minutes=5)
    assert session.focus_seconds == 25 * 60


def test_stopping_a_paused_session_closes_the_pause_at_the_stop_time(alice):
    with at(0):
        services.focus_session_start(user=alice)
    with at(20):
        services.focus_session_pause(user=alice)
    with at(50):
        session = services.focus_session_stop(user=alice)
    assert session.paused_at is None
    assert session.paused_duration == timedelta(minutes=30)
    assert session.focus_seconds == 20 * 60


def test_a_session_is_stopped_exactly_once(alice):
    services.focus_session_start(user=alice)
    services.focus_session_stop(user=alice)
    with pytest.raises(services.NoActiveSession):
        services.focus_session_stop(user=alice)


def test_pause_and_resume_refuse_the_wrong_state(alice):
    with pytest.raises(services.NoActiveSession):
        services.focus_session_pause(user=alice)
    with pytest.raises(services.NoActiveSession):
        services.focus_session_resume(user=alice)
    services.focus_session_start(user=alice)
    with pytest.raises(services.SessionNotPaused):
        services.focus_session_resume(user=alice)
    services.focus_session_pause(user=alice)
    with pytest.raises(services.SessionAlreadyPaused):
        services.focus_session_pause(user=alice)


def test_several_pauses_add_up(alice):
    with at(0):
        services.focus_session_start(user=alice)
    for start, end in [(1, 2), (5, 8), (10, 10.5)]:
        with at(start):
            services.focus_session_pause(user=alice)
        with at(end):
            session = services.focus_session_resume(user=alice)
    assert session.paused_duration == timedelta(minutes=4.5)
    assert session.focus_duration_seconds(now=T0 + timedelta(minutes=12)) == int(7.5 * 60)


def test_a_clock_behind_the_start_never_ends_a_session_before_it_began(alice):
    with at(10):
        services.focus_session_start(user=alice)
    with at(9):  # another app server whose clock is a minute behind
        session = services.focus_session_stop(user=alice)
    assert session.end_time == session.start_time
    assert session.focus_seconds == 0


# --- what the database itself refuses ------------------------------------------------------


def _refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        FocusSessionFactory(**fields)


def test_the_database_refuses_a_second_active_session(alice):
    FocusSessionFactory(user=alice, active=True)
    _refused(user=alice, active=True)


def test_the_database_refuses_inconsistent_rows(alice):
    _refused(user=alice, active=True, end_time=T0)
    _refused(user=alice, is_active=False, end_time=None)
    _refused(user=alice, start_time=T0, end_time=T0 - timedelta(seconds=1))
    _refused(user=alice, paused_at=T0)  # a stopped session cannot be paused
    _refused(user=alice, planned_minutes=721)
    _refused(user=alice, planned_minutes=0)
    _refused(user=alice, paused_duration=timedelta(seconds=-1))


def test_completed_sessions_of_one_user_may_be_many(alice):
    FocusSessionFactory.create_batch(3, user=alice)
    FocusSessionFactory(user=alice, active=True)
    assert FocusSession.objects.filter(user=alice).count() == 4
