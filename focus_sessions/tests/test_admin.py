import pytest

from focus_sessions.models import FocusSession
from focus_sessions.tests.factories import FocusSessionFactory

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
    from journals.tests.factories import JournalFactory

    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=session)
    response = admin_client.post(f"/admin/focus_sessions/focussession/{session.pk}/delete/", {"post": "yes"})
    assert FocusSession.objects.filter(pk=session.pk).exists()
    assert response.status_code == 200  # the "cannot delete" page
