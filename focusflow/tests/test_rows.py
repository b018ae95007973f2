"""Plain SQL reads (focusflow.db.rows) load rows exactly as the ORM does, by field names."""

import uuid
from datetime import date, timedelta

import pytest

from focus_sessions.models import FocusDay, FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.db.rows import first_of, rows_of, values_of
from journals.models import Journal
from journals.tests.factories import JournalFactory
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_rows_load_as_the_orm_loads_them(alice):
    running = FocusSessionFactory(user=alice, active=True)
    done = FocusSessionFactory(
        user=alice, paused_duration=timedelta(minutes=4, microseconds=7), client_id=uuid.uuid4()
    )
    note = JournalFactory(user=alice)
    for model, instance in [(User, alice), (FocusSession, running), (FocusSession, done), (Journal, note)]:
        (loaded,) = rows_of(model, pk=instance.pk)
        assert fields_of(loaded) == fields_of(model.objects.get(pk=instance.pk))
        assert (loaded._state.adding, loaded._state.db) == (False, "default")


def test_conditions_name_fields_and_bound_ranges_inclusively(alice, bob):
    for user, day in [(alice, 1), (alice, 2), (alice, 3), (alice, 5), (bob, 2)]:
        FocusDay.objects.create(user=user, date=date(2026, 11, day), sessions=1, focus_seconds=60 * day)
    found = rows_of(FocusDay, user=alice.pk, date__gte=date(2026, 11, 2), date__lte=date(2026, 11, 5))
    assert sorted(day.date.day for day in found) == [2, 3, 5]


def test_in_takes_a_list_of_any_length(alice, bob):
    mine = [FocusSessionFactory(user=alice, slot=k).pk for k in range(3)]
    theirs = FocusSessionFactory(user=bob).pk
    found = rows_of(FocusSession, user=alice.pk, pk__in=[*mine[:2], theirs])
    assert sorted(session.pk for session in found) == sorted(mine[:2])
    assert rows_of(FocusSession, user=alice.pk, pk__in=[]) == []


def test_first_of_is_a_match_or_none(alice):
    assert first_of(User, email="nobody@example.com") is None
    other = UserFactory()
    assert first_of(User, pk=other.pk).email == other.email
    assert first_of(FocusSession, user=alice.pk, is_active=True) is None
    running = FocusSessionFactory(user=alice, active=True)
    assert first_of(FocusSession, user=alice.pk, is_active=True).pk == running.pk


def test_values_of_reads_the_fields_named(alice):
    User.objects.filter(pk=alice.pk).update(sync_seq=7, sync_purged_seq=3)
    assert values_of(User, ("sync_seq", "sync_purged_seq"), pk=alice.pk) == (7, 3)
    assert values_of(User, ("sync_seq",), pk=alice.pk + 1000) is None
