"""Every journals row of the contract, as a client sees it."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError

from focus_sessions.models import FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import streamed_json
from journals import selectors
from journals.models import Journal
from journals.selectors import _matching
from journals.tests.factories import JournalFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/journals/create/"
LIST = "/api/journals/"
FIELDS = {"id", "content", "session", "editable", "created_at", "updated_at", "version", "client_id"}


def detail(journal_or_id) -> str:
    return f"/api/journals/{getattr(journal_or_id, 'pk', journal_or_id)}/"


# --- create ---------------------------------------------------------------------------------


def test_create_a_free_journal(alice_client, alice):
    response = alice_client.post(CREATE, {"content": "  Calm morning, good focus.  "})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS
    assert body["content"] == "Calm morning, good focus."
    assert body["session"] is None
    assert body["editable"] is True
    assert Journal.objects.get(pk=body["id"]).user == alice


def test_create_a_journal_about_my_session(alice_client, alice):
    session = FocusSessionFactory(user=alice)
    body = alice_client.post(CREATE, {"content": "Deep work.", "session": session.pk}).json()
    assert body["session"] == session.pk
    assert body["editable"] is False


def test_create_about_an_active_session_is_allowed(alice_client, alice):
    session = FocusSessionFactory(user=alice, active=True)
    assert alice_client.post(CREATE, {"content": "Halfway.", "session": session.pk}).status_code == 201


def test_create_about_bobs_session_is_a_400_on_session(alice_client, bob):
    bobs = FocusSessionFactory(user=bob)
    response = alice_client.post(CREATE, {"content": "Sneaky.", "session": bobs.pk})
    assert response.status_code == 400
    assert response.json() == {"session": ["No such session among yours."]}
    assert not Journal.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": "   \n\t  "}, "content"),
        ({"content": "x" * 20_001}, "content"),
        ({"content": "nul\x00byte"}, "content"),
        ({"content": None}, "content"),
        ({"content": ["a"]}, "content"),
        ({"content": "ok", "session": "abc"}, "session"),
        ({"content": "ok", "session": 999_999}, "session"),
        ({"content": "ok", "session": 0}, "session"),
        ({"content": "ok", "session": 10**30}, "session"),
        ({"content": "ok", "session": [1]}, "session"),
    ],
)
def test_create_rejects_bad_input_and_stores_nothing(alice_client, body, field):
    response = alice_client.post(CREATE, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Journal.objects.exists()


def test_create_accepts_exactly_20000_characters(alice_client):
    assert alice_client.post(CREATE, {"content": "x" * 20_000}).status_code == 201


def test_create_ignores_client_set_owner_and_timestamps(alice_client, alice, bob):
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False):
        body = alice_client.post(
            CREATE,
            {"content": "mine", "user": bob.pk, "created_at": "2000-01-01T00:00:00Z", "editable": False},
        ).json()
    journal = Journal.objects.get(pk=body["id"])
    assert journal.user == alice
    assert journal.created_at == datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert body["editable"] is True


def test_create_with_an_idempotency_key_writes_once(alice_client):
    first = alice_client.post(CREATE, {"content": "once"}, HTTP_IDEMPOTENCY_KEY="j-1")
    again = alice_client.post(CREATE, {"content": "once"}, HTTP_IDEMPOTENCY_KEY="j-1")
    assert again.status_code == 201
    assert again.content == first.content
    assert Journal.objects.count() == 1
    other = alice_client.post(CREATE, {"content": "twice"}, HTTP_IDEMPOTENCY_KEY="j-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


# --- read -----------------------------------------------------------------------------------


def test_get_my_journal(alice_client, alice):
    journal = JournalFactory(user=alice, content="hello")
    response = alice_client.get(detail(journal))
    assert response.status_code == 200
    assert response.json()["content"] == "hello"


def test_a_journal_that_does_not_exist_is_a_404(alice_client):
    response = alice_client.get(detail(999_999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("pk", ["99999999999999999999999", "0"])
def test_an_out_of_range_id_is_a_404_not_a_500(alice_client, pk):
    assert alice_client.get(f"/api/journals/{pk}/").status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_bobs_token_on_alices_journal_is_a_404_for_every_method(bob_client, alice, method):
    journal = JournalFactory(user=alice, content="private")
    response = getattr(bob_client, method)(detail(journal), {"content": "hacked"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    journal.refresh_from_db()
    assert journal.content == "private"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_bobs_token_on_alices_tied_journal_is_a_404_not_a_403(bob_client, alice, method):
    journal = JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    assert getattr(bob_client, method)(detail(journal), {"content": "x"}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", CREATE), ("get", LIST), ("get", "/api/journals/1/"), ("put", "/api/journals/1/"),
     ("patch", "/api/journals/1/"), ("delete", "/api/journals/1/")],
)  # fmt: skip
def test_every_journals_endpoint_needs_a_token(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert response.status_code == 401


# --- update and delete ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_a_free_journal(alice_client, alice, method):
    journal = JournalFactory(user=alice, content="before")
    response = getattr(alice_client, method)(detail(journal), {"content": "after"})
    assert response.status_code == 200
    assert response.json()["content"] == "after"
    journal.refresh_from_db()
    assert journal.content == "after"
    assert journal.updated_at > journal.created_at


def test_put_needs_content_but_patch_does_not(alice_client, alice):
    journal = JournalFactory(user=alice, content="keep")
    assert alice_client.put(detail(journal), {}, format="json").status_code == 400
    assert alice_client.patch(detail(journal), {}, format="json").json()["content"] == "keep"


@pytest.mark.parametrize(
    "body",
    [{"content": ""}, {"content": "   "}, {"content": "x" * 20_001}, {"content": "\x00"}, {"content": ["x"]},
     {"content": None}],
)  # fmt: skip
def test_update_rejects_bad_content_and_keeps_the_old(alice_client, alice, body):
    journal = JournalFactory(user=alice, content="keep")
    response = alice_client.patch(detail(journal), body, format="json")
    assert response.status_code == 400
    assert "content" in response.json()
    journal.refresh_from_db()
    assert journal.content == "keep"


def test_update_cannot_move_a_journal_to_a_session(alice_client, alice):
    journal = JournalFactory(user=alice)
    session = FocusSessionFactory(user=alice)
    response = alice_client.patch(detail(journal), {"content": "x", "session": session.pk})
    assert response.status_code == 400
    assert "session" in response.json()
    journal.refresh_from_db()
    assert journal.session is None


def test_update_ignores_owner_and_timestamps(alice_client, alice, bob):
    journal = JournalFactory(user=alice)
    created = journal.created_at
    alice_client.patch(
        detail(journal), {"content": "x", "user": bob.pk, "created_at": "2000-01-01T00:00:00Z"}
    )
    journal.refresh_from_db()
    assert journal.user == alice
    assert journal.created_at == created


@pytest.mark.parametrize(
    ("method", "body"),
    [("put", {"content": "x"}), ("patch", {"content": "x"}), ("patch", {}), ("put", {"content": ""}),
     ("delete", None)],
)  # fmt: skip
def test_a_journal_tied_to_a_session_is_locked_byte_for_byte(alice_client, alice, method, body):
    journal = JournalFactory(user=alice, content="final words", session=FocusSessionFactory(user=alice))
    before = alice_client.get(detail(journal)).content
    response = getattr(alice_client, method)(detail(journal), body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "journal_locked"
    assert alice_client.get(detail(journal)).content == before


def test_delete_a_free_journal(alice_client, alice):
    journal = JournalFactory(user=alice)
    assert alice_client.delete(detail(journal)).status_code == 204
    assert not Journal.objects.exists()
    assert alice_client.delete(detail(journal)).status_code == 404


# --- list -----------------------------------------------------------------------------------


def test_list_shows_only_my_journals_newest_first(alice_client, alice, bob):
    for day in (1, 3, 2):
        with time_machine.travel(datetime(2026, 4, day, 12, tzinfo=UTC)):
            JournalFactory(user=alice, content=f"day {day}")
    JournalFactory(user=bob, content="bob's")
    body = alice_client.get(LIST).json()
    assert set(body) == {"next", "previous", "results"}
    assert [j["content"] for j in body["results"]] == ["day 3", "day 2", "day 1"]


def test_list_pages_by_20_and_clamps_page_size(alice_client, alice):
    JournalFactory.create_batch(105, user=alice)
    first = alice_client.get(LIST).json()
    assert len(first["results"]) == 20
    assert first["next"]
    assert len(alice_client.get(LIST, {"page_size": 500}).json()["results"]) == 100


def test_list_query_count_does_not_grow_with_page_size(alice_client, alice, django_assert_num_queries):
    JournalFactory.create_batch(60, user=alice)
    for size in (1, 60):
        with django_assert_num_queries(2):
            alice_client.get(LIST, {"page_size": size})


def test_list_filters_by_session(alice_client, alice, bob):
    session = FocusSessionFactory(user=alice)
    tied = JournalFactory(user=alice, session=session)
    JournalFactory(user=alice)
    results = alice_client.get(LIST, {"session": session.pk}).json()["results"]
    assert [j["id"] for j in results] == [tied.pk]
    bobs = FocusSessionFactory(user=bob)
    JournalFactory(user=bob, session=bobs)
    assert alice_client.get(LIST, {"session": bobs.pk}).json()["results"] == []


def test_search_finds_words_with_stemming(alice_client, alice):
    JournalFactory(user=alice, content="I was running late but the writing went well.")
    JournalFactory(user=alice, content="Quiet afternoon of reading.")
    JournalFactory(user=UserFactory(), content="Someone else was running too.")

    def found(words):
        return [j["content"] for j in alice_client.get(LIST, {"search": words}).json()["results"]]

    assert found("runs") == ["I was running late but the writing went well."]
    assert found("writes") == ["I was running late but the writing went well."]
    assert found("READ") == ["Quiet afternoon of reading."]
    assert found("running reading") == []
    assert found("swimming") == []


@pytest.mark.parametrize(
    "words",
    ['"unclosed', "a & b | !c", "(((", "-", "'; DROP TABLE x; --", "é 😀 ✓", "-" * 33, "- " * 60,
     "-!" * 50, "a " + "-" * 100, "-a " * 60, "\\", ""],
)  # fmt: skip
def test_search_with_odd_syntax_is_never_an_error(alice_client, alice, words):
    JournalFactory(user=alice, content="plain text")
    assert alice_client.get(LIST, {"search": words}).status_code == 200


@pytest.mark.parametrize("operator", ["-(", "-|", "-&", "-<", "-)", "- ", "-!"])
def test_negations_with_punctuation_between_them_are_no_500(alice_client, alice, operator):
    JournalFactory(user=alice, content="plain text")
    assert alice_client.get(LIST, {"search": operator * 60 + "a"}).status_code == 200


def test_a_search_postgresql_cannot_build_is_a_400_on_search(alice_client, alice, monkeypatch):
    monkeypatch.setattr(selectors, "_REPEATED_NEGATION", re.compile("(?!)"))  # no clean-up
    response = alice_client.get(LIST, {"search": "-" * 60 + "a"})
    assert response.status_code == 400
    assert "search" in response.json()


def test_repeated_negations_still_exclude_the_word(alice_client, alice):
    JournalFactory(user=alice, content="quiet reading")
    JournalFactory(user=alice, content="loud running")
    results = alice_client.get(LIST, {"search": "-" * 40 + "running"}).json()["results"]
    assert [j["content"] for j in results] == ["quiet reading"]


def test_the_search_expression_matches_the_full_text_index(alice):
    JournalFactory.create_batch(50, user=alice)
    # Across all journals (no user filter, whose own index would win on a small table).
    sql, params = _matching(Journal.objects.all(), "focus").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "journal_search_idx" in plan


def test_list_dates_are_local_days(client_for):
    kiri = UserFactory(timezone="Pacific/Kiritimati")
    with time_machine.travel(datetime(2026, 3, 1, 11, tzinfo=UTC)):  # 2026-03-02 01:00 local
        late = JournalFactory(user=kiri)
    with time_machine.travel(datetime(2026, 3, 1, 9, tzinfo=UTC)):  # 2026-03-01 23:00 local
        early = JournalFactory(user=kiri)
    client = client_for(kiri)
    assert [j["id"] for j in client.get(LIST, {"from": "2026-03-02"}).json()["results"]] == [late.pk]
    assert [j["id"] for j in client.get(LIST, {"to": "2026-03-01"}).json()["results"]] == [early.pk]


@pytest.mark.parametrize(
    "query",
    [{"session": "abc"}, {"session": "-1"}, {"from": "nope"}, {"from": "2026-03-02", "to": "2026-03-01"},
     {"search": "x" * 201}, {"search": "nul\x00"}],
)  # fmt: skip
def test_list_rejects_bad_filters(alice_client, query):
    response = alice_client.get(LIST, query)
    assert response.status_code == 400
    # The error names the parameter at fault (`to` when the range is reversed).
    field = "to" if set(query) == {"from", "to"} else next(iter(query))
    assert set(response.json()) == {field}


# --- what the database holds ----------------------------------------------------------------


def test_the_database_refuses_a_journal_on_another_users_session(alice, bob):
    bobs = FocusSessionFactory(user=bob)
    with transaction.atomic():
        with connection.cursor() as cursor:  # checked at commit by default; check each row now
            cursor.execute("SET CONSTRAINTS journal_session_same_author IMMEDIATE")
        with pytest.raises(IntegrityError), transaction.atomic():
            Journal.objects.create(user=alice, content="x", session=bobs)


def test_a_session_with_journals_cannot_be_deleted(alice):
    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=session)
    with pytest.raises(RestrictedError):
        session.delete()
    # Nor behind the ORM's back: the database's own foreign keys refuse it.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM focus_sessions_focussession WHERE id = %s", [session.pk])
    assert FocusSession.objects.filter(pk=session.pk).exists()


def test_deleting_the_account_deletes_tied_and_free_journals(alice_client, alice, password):
    JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    JournalFactory(user=alice)
    assert alice_client.delete("/api/users/me/", {"password": password}).status_code == 204
    assert not Journal.objects.exists()
    assert not FocusSession.objects.exists()


def test_export_includes_every_journal(alice_client, alice, bob):
    mine = JournalFactory.create_batch(2, user=alice)
    JournalFactory(user=bob)
    body = streamed_json(alice_client.get("/api/users/me/export/"))
    assert sorted(j["id"] for j in body["journals"]) == sorted(j.pk for j in mine)
