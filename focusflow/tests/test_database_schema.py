"""The invariants the models declare are the ones the database holds (migrations 0004 made
them by hand; later migrations only told Django's state about them)."""

import pytest
from django.db import connection

from focus_sessions.models import NO_OVERLAP, FocusSession
from journals.models import Journal

pytestmark = pytest.mark.django_db


def one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_the_no_overlap_exclusion_constraint_is_the_models():
    (definition,) = one(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [NO_OVERLAP]
    )
    assert definition == (
        "EXCLUDE USING gist (user_id WITH =, tstzrange(start_time, COALESCE(end_time, "
        "'infinity'::timestamp with time zone), '[)'::text) WITH &&)"
    )
    declared = [c for c in FocusSession._meta.constraints if c.name == NO_OVERLAP]
    assert len(declared) == 1


def test_the_journal_search_vector_is_a_stored_generated_column_with_its_gin_index():
    table = Journal._meta.db_table
    generated, expression = one(
        "SELECT a.attgenerated, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass AND a.attname = 'search_vector'",
        [table],
    )
    assert (generated, expression) == ("s", "to_tsvector('english'::regconfig, content)")
    (index,) = one("SELECT indexdef FROM pg_indexes WHERE indexname = 'journal_search_idx'", [])
    assert index.endswith("USING gin (user_id, search_vector)")
    assert Journal._meta.get_field("search_vector").db_persist
