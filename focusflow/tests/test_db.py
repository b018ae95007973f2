"""Plain SQL reads (focusflow.db) load rows exactly as the ORM does."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import DateTimeField

from focus_sessions.models import FocusDay, FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow import db
from focusflow.testing import T0
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
    day = FocusDay.objects.get(user=alice)  # the factory counted the finished session
    for model, instance in [(User, alice), (FocusSession, running), (FocusSession, done), (Journal, note)]:
        (loaded,) = db.rows_of(model, "id = %s", [instance.pk])
        assert fields_of(loaded) == fields_of(model.objects.get(pk=instance.pk))
        assert (loaded._state.adding, loaded._state.db) == (False, "default")
    (loaded_day,) = db.rows_of(FocusDay, "user_id = %s", [alice.pk])
    assert fields_of(loaded_day) == fields_of(day)


def test_first_of_is_the_first_match_or_none(alice):
    assert db.first_of(User, "email = %s", ["nobody@example.com"]) is None
    other = UserFactory()
    assert db.first_of(User, "id = %s", [other.pk]).email == other.email
    assert db.first_of(FocusSession, "user_id = %s AND is_active = %s", [alice.pk, True]) is None


def test_the_database_converters_apply_as_the_orm_applies_them(alice, monkeypatch):
    """SQLite (the quick local run) hands datetimes back through converters; PostgreSQL needs
    none, so one is put in its place here to see that each column's converters run."""

    def to_the_second(value, expression, conn):
        return value.replace(microsecond=0) if value is not None else None

    original = connection.ops.get_db_converters

    def with_ours(expression):
        found = original(expression)
        return [*found, to_the_second] if isinstance(expression.output_field, DateTimeField) else found

    monkeypatch.setattr(connection.ops, "get_db_converters", with_ours)
    db._loading.cache_clear()
    try:
        start = T0.replace(microsecond=123456)
        session = FocusSessionFactory(user=alice, start_time=start)
        (loaded,) = db.rows_of(FocusSession, "id = %s", [session.pk])
        assert loaded.start_time == T0
        assert fields_of(loaded) == fields_of(FocusSession.objects.get(pk=session.pk))  # the ORM's too
    finally:
        db._loading.cache_clear()
