from datetime import timedelta

import pytest
from django.utils import timezone

from focus_sessions.models import FocusSession
from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import T0, changelist_rows
from journals.tests.factories import JournalFactory
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sessions_are_listed_with_search_by_email_and_filters(admin_client, alice, bob):
    FocusSessionFactory(user=alice, label="alice's")
    FocusSessionFactory(user=bob, active=True)
    page = admin_client.get("/admin/focus_sessions/focussession/", {"q": "alice@"})
    assert page.status_code == 200
    assert b"alice@example.com" in page.content
    assert b"bob@example.com" not in page.content
    assert (
        admin_client.get("/admin/focus_sessions/focussession/", {"is_active__exact": "1"}).status_code == 200
    )


def test_the_admin_stops_active_sessions_through_the_service(admin_client, alice, bob):
    running = FocusSessionFactory(user=alice, active=True)
    done = FocusSessionFactory(user=bob)
    response = admin_client.post(
        "/admin/focus_sessions/focussession/",
        {"action": "stop_sessions", "_selected_action": [running.pk, done.pk]},
        follow=True,
    )
    assert b"Stopped 1 session" in response.content
    running.refresh_from_db()
    assert not running.is_active
    assert running.end_time is not None
    assert running.focus_seconds is not None
    assert FocusSession.objects.get(pk=done.pk).end_time == done.end_time


def test_a_session_with_a_journal_cannot_be_deleted_in_the_admin(admin_client, alice):

    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=session)
    response = admin_client.post(f"/admin/focus_sessions/focussession/{session.pk}/delete/", {"post": "yes"})
    assert FocusSession.objects.filter(pk=session.pk).exists()
    assert response.status_code == 200  # the "cannot delete" page


LIST = "/admin/focus_sessions/focussession/"


def _rows(page) -> list[str]:
    return [" | ".join(row) for row in changelist_rows(page)]


def test_a_session_is_named_by_its_owner_their_clock_and_its_label():
    alice = UserFactory(email="alice@example.com", timezone="Europe/Paris")
    session = FocusSessionFactory(user=alice, start_time=T0, label="Deep work")
    assert str(session) == 'alice@example.com — 2026-11-20 10:00:00 CET, "Deep work"'
    unlabelled = FocusSessionFactory(user=alice, start_time=T0 - timedelta(days=1), label="")
    assert str(unlabelled) == "alice@example.com — 2026-11-19 10:00:00 CET"


def test_a_session_loaded_without_its_owner_is_named_without_a_query(django_assert_num_queries):
    FocusSessionFactory(start_time=T0, label="Deep work")
    session = FocusSession.objects.get()
    with django_assert_num_queries(0):
        assert str(session) == '2026-11-20 09:00:00 UTC, "Deep work"'


def test_the_list_shows_the_start_to_the_second_the_owner_and_the_state(admin_client, alice, bob):
    FocusSessionFactory(user=alice, start_time=T0, label="Deep work")
    FocusSessionFactory(
        user=bob, start_time=T0 + timedelta(hours=1), active=True, paused_at=T0 + timedelta(hours=2)
    )
    rows = _rows(admin_client.get(LIST))
    assert "2026-11-20 10:00:00 UTC" in rows[0] and "bob@example.com" in rows[0] and "paused" in rows[0]
    assert "2026-11-20 09:00:00 UTC" in rows[1] and "alice@example.com" in rows[1] and "stopped" in rows[1]
    assert "Deep work" in rows[1]


def test_a_long_label_is_cut_in_the_list(admin_client, alice):
    FocusSessionFactory(
        user=alice, label="Quarterly planning document, first full draft, then the reading list"
    )
    [row] = _rows(admin_client.get(LIST))
    assert "Quarterly planning document,…" in row
    assert "reading list" not in row


@pytest.mark.parametrize(("answer", "shown"), [("yes", "bob@"), ("no", "alice@")])
def test_the_paused_filter_answers_yes_or_no(admin_client, alice, bob, answer, shown):
    FocusSessionFactory(user=alice, active=True)
    FocusSessionFactory(user=bob, active=True, paused_at=timezone.now())
    [row] = _rows(admin_client.get(LIST, {"paused": answer}))
    assert shown in row


def test_sessions_filter_by_the_owners_email_in_any_case(admin_client, alice, bob):
    FocusSessionFactory(user=alice, label="alice's")
    FocusSessionFactory(user=bob, label="bob's")
    page = admin_client.get(LIST, {"user_email": " Alice@Example.COM "})
    assert [row.split(" | ")[-1] for row in _rows(page)] == ["alice's"]
    assert 'value=" Alice@Example.COM "' in page.content.decode()  # the box keeps what was typed
    assert len(_rows(admin_client.get(LIST, {"user_email": "nobody@example.com"}))) == 0


def test_the_change_page_shows_the_start_on_the_owners_clock(admin_client):
    alice = UserFactory(email="alice@example.com", timezone="America/Los_Angeles")
    session = FocusSessionFactory(user=alice, start_time=T0, label="Deep work")
    page = admin_client.get(f"{LIST}{session.pk}/change/").content.decode()
    assert "2026-11-20 01:00:00 PST (America/Los_Angeles)" in page
    assert "2026-11-20 09:00:00 UTC" in page
    assert "alice@example.com — 2026-11-20 01:00:00 PST, &quot;Deep work&quot;" in page


def test_the_session_list_filters_by_tag_and_offers_the_accounts_tags(admin_client, alice, bob):
    from focus_sessions import tags

    thesis, _ = tags.tag_create(user=alice, name="Thesis")
    tagged = FocusSessionFactory(user=alice, label="tagged")
    tagged.tag_ids = [thesis.pk]
    tagged.save(update_fields=["tag_ids"])
    FocusSessionFactory(user=alice, label="plain")
    page = admin_client.get("/admin/focus_sessions/focussession/", {"tag": str(thesis.pk)})
    assert page.status_code == 200
    assert [row[-1] for row in changelist_rows(page)] == ["tagged"]
    offered = admin_client.get("/admin/focus_sessions/focussession/", {"user_email": "alice@example.com"})
    assert b"Thesis" in offered.content
    assert admin_client.get("/admin/focus_sessions/focussession/", {"tag": "x"}).status_code == 200


def test_tags_and_goals_are_readable_per_user(admin_client, alice, bob):
    from focus_sessions import goals, tags

    tag, _ = tags.tag_create(user=alice, name="Alice's tag")
    tags.tag_create(user=bob, name="Bob's tag")
    goals.goal_create(user=alice, tag=tag.pk, period="week", target_minutes=90)
    page = admin_client.get("/admin/focus_sessions/tag/", {"user_email": "alice@example.com"})
    assert b"Alice&#x27;s tag" in page.content
    assert b"Bob&#x27;s tag" not in page.content
    assert admin_client.get(f"/admin/focus_sessions/tag/{tag.pk}/change/").status_code == 200
    goals_page = admin_client.get("/admin/focus_sessions/goal/", {"user_email": "alice@example.com"})
    assert goals_page.status_code == 200
    assert b"week" in goals_page.content
    assert admin_client.post("/admin/focus_sessions/tag/add/", {"name": "x"}).status_code == 403
