"""The serializers that write their representation by hand, for speed, show exactly what
DRF's own field-by-field representation shows: every field, the same values."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework import serializers

from focus_sessions import goals, tags
from focus_sessions.selectors import DayStats, FocusStats, GoalProgress, TagStats
from focus_sessions.serializers import FocusSessionSerializer, GoalSerializer, StatsSerializer, TagSerializer
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.api.fields import instant
from focusflow.testing import T0, at
from journals.serializers import JournalSerializer
from journals.tests.factories import JournalFactory
from quotes.serializers import TodayQuoteSerializer
from users.serializers import UserSerializer
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def drf(serializer_class, instance, **context):
    """What DRF itself would show, through the declared fields."""
    serializer = serializer_class(instance, context=context)
    base = (
        serializers.ModelSerializer
        if isinstance(serializer, serializers.ModelSerializer)
        else serializers.Serializer
    )
    return dict(base.to_representation(serializer, instance))


@pytest.mark.parametrize("microseconds", [0, 123456])
def test_a_timestamp_is_shown_as_drf_shows_it(microseconds):
    moment = datetime(2026, 3, 29, 1, 30, 5, microseconds, tzinfo=UTC).astimezone()
    assert instant(moment) == serializers.DateTimeField().to_representation(moment)
    assert instant(None) is None


def test_sessions_running_paused_stopped_and_with_client_ids_match_drf(alice):
    with at(0):
        sessions = [
            FocusSessionFactory(user=alice, start_time=T0 - timedelta(hours=5), minutes=20),
            FocusSessionFactory(
                user=alice,
                start_time=T0 - timedelta(hours=4),
                planned_minutes=25,
                label="é ✓",
                client_id=uuid.uuid4(),
            ),
            FocusSessionFactory(
                user=alice,
                active=True,
                start_time=T0 - timedelta(minutes=7, microseconds=5),
                paused_at=T0 - timedelta(minutes=2),
                paused_duration=timedelta(seconds=30),
            ),
        ]
        for session in sessions:
            context = {"now": T0}
            assert FocusSessionSerializer(session, context=context).data == drf(
                FocusSessionSerializer, session, now=T0
            )
        many = FocusSessionSerializer(sessions, many=True, context={"now": T0}).data
        assert many == [drf(FocusSessionSerializer, s, now=T0) for s in sessions]


def test_journals_free_and_tied_match_drf(alice):
    free = JournalFactory(user=alice, client_id=uuid.uuid4())
    tied = JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    for journal in (free, tied):
        assert JournalSerializer(journal).data == drf(JournalSerializer, journal)


def test_tags_and_goals_match_drf(alice):
    plain, _ = tags.tag_create(user=alice, name="Plain")
    coloured, _ = tags.tag_create(user=alice, name="Coloured", color="#00ff00", client_id=uuid.uuid4())
    for tag in (plain, coloured):
        assert TagSerializer(tag).data == drf(TagSerializer, tag)
    daily, _ = goals.goal_create(user=alice, tag=None, period="day", target_minutes=30)
    weekly, _ = goals.goal_create(
        user=alice, tag=plain.pk, period="week", target_minutes=300, client_id=uuid.uuid4()
    )
    for goal in (daily, weekly):
        assert GoalSerializer(goal).data == drf(GoalSerializer, goal)


def test_sessions_with_tags_match_drf(alice):
    tag, _ = tags.tag_create(user=alice, name="x")
    with at(0):
        session = FocusSessionFactory(user=alice)
        session.tag_ids = [tag.pk]
        assert FocusSessionSerializer(session).data == drf(FocusSessionSerializer, session)


def test_users_with_and_without_a_goal_match_drf():
    for user in (
        UserFactory(),
        UserFactory(daily_goal_minutes=90, display_name="Zoë", timezone="Asia/Tokyo"),
    ):
        assert UserSerializer(user).data == drf(UserSerializer, user)


def test_stats_match_drf():
    stats = FocusStats(
        timezone="Europe/Paris",
        days=[
            DayStats(date=date(2026, 3, 29), sessions=2, focus_seconds=3000, goal_met=True, goals_met=[4, 9])
        ]
        * 3,
        total_focus_seconds=9000,
        current_streak_days=3,
        longest_streak_days=7,
        by_tag=[
            TagStats(tag=3, sessions=2, focus_seconds=600),
            TagStats(tag=None, sessions=1, focus_seconds=60),
        ],
        goals=[GoalProgress(goal=4, period_start=date(2026, 3, 23), focus_seconds=600, met=False)],
    )
    assert StatsSerializer(stats).data == drf(StatsSerializer, stats)


def test_the_quote_of_the_day_matches_drf():
    for author in ("Seneca", None):
        quote = {"id": 4, "text": "Make haste slowly.", "author": author, "date": date(2026, 11, 20)}
        assert TodayQuoteSerializer(quote).data == drf(TodayQuoteSerializer, quote)


def test_every_declared_field_is_shown():
    """A field added to a serializer but not to its hand-written representation fails here."""
    with at(0):
        session = FocusSessionFactory(user=UserFactory())
    assert (
        list(FocusSessionSerializer(session, context={"now": T0}).data) == FocusSessionSerializer.Meta.fields
    )
    journal = JournalFactory(user=session.user)
    assert list(JournalSerializer(journal).data) == JournalSerializer.Meta.fields
    assert list(UserSerializer(session.user).data) == UserSerializer.Meta.fields
