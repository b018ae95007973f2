import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import T0, changelist_rows
from journals.models import Journal
from journals.tests.factories import JournalFactory
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/journals/journal/"


def test_journals_are_searchable_by_content_and_author_and_filterable(admin_client, alice, bob):
    JournalFactory(user=alice, content="Lighthouse morning")
    JournalFactory(user=bob, content="Other words", session=FocusSessionFactory(user=bob))
    page = admin_client.get(LIST, {"q": "lighthouse"})
    assert b"Lighthouse morning" in page.content
    assert b"Other words" not in page.content
    assert b"Other words" in admin_client.get(LIST, {"q": "bob@example"}).content
    tied_only = admin_client.get(LIST, {"tied": "yes"})
    assert b"Other words" in tied_only.content
    assert b"Lighthouse" not in tied_only.content
    free_only = admin_client.get(LIST, {"tied": "no"})
    assert b"Lighthouse" in free_only.content
    assert b"Other words" not in free_only.content


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


def test_a_journal_is_named_by_its_author_their_day_and_an_excerpt(django_assert_num_queries):
    alice = UserFactory(email="alice@example.com", timezone="Pacific/Kiritimati")
    journal = JournalFactory(
        user=alice, content="Lighthouse morning.\nThe fog stayed until the second block ended."
    )
    Journal.objects.filter(pk=journal.pk).update(created_at=T0.replace(hour=23))  # 13:00 next day there
    with_author = Journal.objects.select_related("user").get(pk=journal.pk)
    alone = Journal.objects.get(pk=journal.pk)
    with django_assert_num_queries(0):
        assert str(with_author) == 'alice@example.com, 2026-11-21: "Lighthouse morning. The fog stayed unti…"'
        assert str(alone) == '2026-11-20: "Lighthouse morning. The fog stayed unti…"'


def test_the_list_shows_when_who_what_and_whether_tied(admin_client, alice, bob):
    JournalFactory(user=alice, content="Free words " * 20)
    JournalFactory(user=bob, content="Tied words", session=FocusSessionFactory(user=bob))
    Journal.objects.update(created_at=T0)
    rows = changelist_rows(admin_client.get(LIST))
    assert [row[1:4] for row in rows] == [
        ["2026-11-20 09:00:00 UTC", "bob@example.com", "Tied words"],
        ["2026-11-20 09:00:00 UTC", "alice@example.com", ("Free words " * 6)[:59].rstrip() + "…"],
    ]
    tied = admin_client.get(LIST).content.decode()
    assert tied.count('alt="True"') == 1 and tied.count('alt="False"') == 1


def test_journals_filter_by_the_authors_email(admin_client, alice, bob):
    JournalFactory(user=alice, content="Alice's words")
    JournalFactory(user=bob, content="Bob's words")
    rows = changelist_rows(admin_client.get(LIST, {"user_email": "BOB@example.com"}))
    assert [row[3] for row in rows] == ["Bob's words"]
