import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from journals.models import Journal
from journals.tests.factories import JournalFactory
from users.models import User

pytestmark = pytest.mark.django_db

LIST = "/admin/journals/journal/"


def test_journals_are_searchable_by_content_and_author_and_filterable(admin_client, alice, bob):
    JournalFactory(user=alice, content="Lighthouse morning")
    JournalFactory(user=bob, content="Other words", session=FocusSessionFactory(user=bob))
    page = admin_client.get(LIST, {"q": "lighthouse"})
    assert b"Lighthouse morning" in page.content
    assert b"Other words" not in page.content
    assert b"Other words" in admin_client.get(LIST, {"q": "bob@example"}).content
    tied_only = admin_client.get(LIST, {"session__isempty": "0"})
    assert b"Other words" in tied_only.content
    assert b"Lighthouse" not in tied_only.content


def test_a_tied_journal_is_read_only_and_undeletable_in_the_admin(admin_client, alice):
    journal = JournalFactory(user=alice, content="final", session=FocusSessionFactory(user=alice))
    admin_client.post(f"{LIST}{journal.pk}/change/", {"content": "changed"})
    admin_client.post(f"{LIST}{journal.pk}/delete/", {"post": "yes"})
    journal.refresh_from_db()
    assert journal.content == "final"


def test_the_bulk_delete_action_keeps_tied_journals(admin_client, alice):
    tied = JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    free = JournalFactory(user=alice)
    response = admin_client.post(
        LIST, {"action": "delete_free_journals", "_selected_action": [tied.pk, free.pk]}, follow=True
    )
    assert b"kept 1 tied" in response.content
    assert list(Journal.objects.values_list("pk", flat=True)) == [tied.pk]
    actions = admin_client.get(LIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]


def test_an_admin_can_delete_an_account_with_tied_journals(admin_client, alice):
    session = FocusSessionFactory(user=alice)
    JournalFactory(user=alice, session=session)
    response = admin_client.post(f"/admin/users/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Journal.objects.exists()


def test_the_change_page_of_a_tied_journal_offers_no_delete(admin_client, alice):
    journal = JournalFactory(user=alice, session=FocusSessionFactory(user=alice))
    page = admin_client.get(f"{LIST}{journal.pk}/change/")
    assert page.status_code == 200
    assert f"{journal.pk}/delete/".encode() not in page.content
    assert admin_client.get(f"{LIST}{journal.pk}/delete/").status_code == 403
