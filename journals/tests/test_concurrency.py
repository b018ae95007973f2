"""Races over real HTTP (gunicorn, 4 workers): edits against deletes, writes against the
deletion of the account itself. The loser hears 404 or 401, never a 500."""

import pytest

from focusflow.testing import bearer, send_all_at_once
from journals.models import Journal
from journals.tests.factories import JournalFactory
from users.models import User
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_edits_racing_deletes_of_one_journal_get_200_204_or_404(gunicorn):
    user = UserFactory()
    headers = {"Authorization": bearer(user)}
    for _ in range(10):
        url = f"{gunicorn.url}/api/journals/{JournalFactory(user=user).pk}/"
        edit = ("PATCH", url, {"json": {"content": "edited"}, "headers": headers})
        delete = ("DELETE", url, {"headers": headers})
        responses = send_all_at_once([edit] * 3 + [delete] * 3)
        assert {r.status_code for r in responses[:3]} <= {200, 404}
        assert sorted(r.status_code for r in responses[3:]) == [204, 404, 404]
    assert not Journal.objects.exists()


def test_writes_racing_the_deletion_of_their_account_never_answer_500(gunicorn, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    api = f"{gunicorn.url}/api"
    for round_ in range(4):
        user = UserFactory(password="a-long-passphrase")
        headers = {"Authorization": bearer(user)}
        calls = [
            ("DELETE", f"{api}/users/me/", {"json": {"password": "a-long-passphrase"}, "headers": headers})
        ]
        for n in range(3):
            keyed = {**headers, "Idempotency-Key": f"k{round_}-{n}"}
            calls += [
                ("POST", f"{api}/journals/create/", {"json": {"content": "x"}, "headers": headers}),
                ("POST", f"{api}/sessions/start/", {"headers": keyed}),
                ("PATCH", f"{api}/users/me/", {"json": {"display_name": "y"}, "headers": headers}),
            ]
        responses = send_all_at_once(calls)
        assert responses[0].status_code == 204
        assert all(r.status_code < 500 for r in responses), [(r.status_code, r.text) for r in responses]
        assert not User.objects.filter(pk=user.pk).exists()
