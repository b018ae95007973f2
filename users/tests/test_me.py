"""Profile, password change, account deletion and export."""

import json

import pytest

from focus_sessions.tests.factories import FocusSessionFactory
from focusflow.testing import streamed_json
from journals.tests.factories import JournalFactory
from users.export import BATCH_ROWS
from users.models import User
from users.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/users/me/"
PASSWORD_URL = "/api/users/me/password/"
EXPORT = "/api/users/me/export/"
TOKENS = "/api/users/me/tokens/"
WEBHOOKS = "/api/webhooks/"
LOGIN = "/api/users/login/"
REFRESH = "/api/users/token/refresh/"


def test_me_returns_the_callers_profile_in_one_query_after_auth(
    alice_client, alice, django_assert_num_queries
):
    # the user lookup of JWT authentication; then the profile as stored now
    with django_assert_num_queries(2):
        response = alice_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "email": "alice@example.com",
        "email_verified": False,
        "pending_email": None,
        "display_name": "Alice",
        "timezone": "UTC",
        "daily_goal_minutes": None,
        "date_joined": alice.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_without_a_token_is_a_401(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_patch_me_updates_the_editable_fields(alice_client, alice):
    response = alice_client.patch(
        ME, {"display_name": "Al", "timezone": "Asia/Tokyo", "daily_goal_minutes": 90}
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Al"
    assert response.json()["timezone"] == "Asia/Tokyo"
    assert response.json()["daily_goal_minutes"] == 90
    alice.refresh_from_db()
    assert (alice.display_name, alice.timezone, alice.daily_goal_minutes) == ("Al", "Asia/Tokyo", 90)


def test_patch_me_can_clear_the_daily_goal(alice_client, alice):
    alice_client.patch(ME, {"daily_goal_minutes": 30})
    assert alice_client.patch(ME, {"daily_goal_minutes": None}).json()["daily_goal_minutes"] is None


def test_patch_me_cannot_change_email_id_or_staff_status(alice_client, alice, bob):
    joined = alice.date_joined
    response = alice_client.patch(
        ME,
        {
            "display_name": "Al",
            "email": "evil@example.com",
            "id": bob.pk,
            "is_staff": True,
            "date_joined": "2000-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["email"]) == (alice.pk, "alice@example.com")
    alice.refresh_from_db()
    assert (alice.display_name, alice.email, alice.is_staff, alice.date_joined) == (
        "Al",
        "alice@example.com",
        False,
        joined,
    )
    bob.refresh_from_db()  # naming bob's id changed bob in no way
    assert (bob.display_name, bob.email) == ("Bob", "bob@example.com")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"daily_goal_minutes": 0}, "daily_goal_minutes"),
        ({"daily_goal_minutes": 1441}, "daily_goal_minutes"),
        ({"daily_goal_minutes": "lots"}, "daily_goal_minutes"),
        ({"daily_goal_minutes": 1.5}, "daily_goal_minutes"),
        ({"daily_goal_minutes": True}, "daily_goal_minutes"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"display_name": "nul\x00byte"}, "display_name"),
        ({"display_name": None}, "display_name"),
    ],
)
def test_patch_me_rejects_bad_values_and_changes_nothing(alice_client, alice, body, field):
    response = alice_client.patch(ME, body)
    assert response.status_code == 400
    assert field in response.json()
    alice.refresh_from_db()
    assert (alice.display_name, alice.timezone, alice.daily_goal_minutes) == ("Alice", "UTC", None)


def test_put_me_is_not_allowed(alice_client):
    response = alice_client.put(ME, {"display_name": "x"})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- password change ------------------------------------------------------------------------


def test_password_change_revokes_every_earlier_refresh_token(api_client, alice_client, alice):
    earlier = [
        api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}).json() for _ in range(2)
    ]
    response = alice_client.post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"}
    )
    assert response.status_code == 204
    for tokens in earlier:
        assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    assert api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}).status_code == 401
    fresh = api_client.post(LOGIN, {"email": "alice@example.com", "password": "a-brand-new-passphrase"})
    assert fresh.status_code == 200
    assert api_client.post(REFRESH, {"refresh": fresh.json()["refresh"]}).status_code == 200


def test_password_change_with_a_wrong_current_password_is_a_400(alice_client, alice):
    response = alice_client.post(
        PASSWORD_URL, {"current_password": "not-it-at-all", "new_password": "a-brand-new-passphrase"}
    )
    assert response.status_code == 400
    assert "current_password" in response.json()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["short", "password123", "1234567890"])
def test_password_change_to_a_weak_password_is_a_400(alice_client, alice, weak):
    response = alice_client.post(PASSWORD_URL, {"current_password": PASSWORD, "new_password": weak})
    assert response.status_code == 400
    assert "new_password" in response.json()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_needs_both_fields_and_a_token(api_client, alice_client):
    assert set(alice_client.post(PASSWORD_URL, {}, format="json").json()) == {
        "current_password",
        "new_password",
    }
    assert api_client.post(PASSWORD_URL, {}).status_code == 401


# --- delete ---------------------------------------------------------------------------------


def test_delete_me_with_the_password_removes_the_account(alice_client, alice):
    response = alice_client.delete(ME, {"password": PASSWORD})
    assert response.status_code == 204
    assert not User.objects.filter(pk=alice.pk).exists()
    assert alice_client.get(ME).status_code == 401


@pytest.mark.parametrize("body", [{"password": "not-the-password"}, {}])
def test_delete_me_without_the_right_password_is_a_400_and_keeps_the_account(alice_client, alice, body):
    response = alice_client.delete(ME, body, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert User.objects.filter(pk=alice.pk).exists()


def test_bob_cannot_delete_alice(bob_client, alice, bob):
    # There is no way to name another account: bob's request deletes bob, and only bob.
    assert bob_client.delete(ME, {"password": PASSWORD, "id": alice.pk}).status_code == 204
    assert User.objects.filter(pk=alice.pk).exists()
    assert not User.objects.filter(pk=bob.pk).exists()


# --- export ---------------------------------------------------------------------------------


def test_export_returns_the_profile_as_one_json_document(alice_client, alice):
    response = alice_client.get(EXPORT)
    assert response.status_code == 200
    body = streamed_json(response)
    assert body["user"]["email"] == "alice@example.com"
    assert "exported_at" in body
    assert body["focus_sessions"] == body["journals"] == []
    assert "attachment" in response["Content-Disposition"]


def test_export_streams_every_row_across_batches_oldest_first(alice_client, alice, bob):
    sessions = FocusSessionFactory.create_batch(BATCH_ROWS + 3, user=alice)
    journals = JournalFactory.create_batch(2, user=alice)
    FocusSessionFactory(user=bob)
    body = streamed_json(alice_client.get(EXPORT))
    assert [s["id"] for s in body["focus_sessions"]] == [
        s.pk for s in sorted(sessions, key=lambda s: (s.start_time, s.pk))
    ]
    assert [j["id"] for j in body["journals"]] == [j.pk for j in journals]
    # One clock for the whole document: every running duration is measured at the same instant.
    assert {s["server_now"] for s in body["focus_sessions"]} == {body["exported_at"]}


def test_export_lists_the_accounts_tokens_and_webhooks_never_a_token_or_a_secret(alice_client, bob_client):
    made = [
        alice_client.post(TOKENS, {"name": name, "scopes": ["sessions:read"]}).json()
        for name in ("calendar", "status bar")
    ]
    hook = alice_client.post(
        WEBHOOKS, {"url": "https://93.184.216.34/hooks", "events": ["session.started"]}
    ).json()
    bob_client.post(TOKENS, {"name": "bob's", "scopes": ["sessions:read"]})
    response = alice_client.get(EXPORT)
    body = streamed_json(response)
    listed = alice_client.get(TOKENS).json()["results"]
    assert body["personal_tokens"] == list(reversed(listed))  # as the list shows them, oldest first
    assert [t["name"] for t in body["personal_tokens"]] == ["calendar", "status bar"]
    assert body["webhooks"] == alice_client.get(WEBHOOKS).json()["results"]
    assert body["webhooks"][0]["url"] == "https://93.184.216.34/hooks"
    text = json.dumps(body)
    for secret in [hook["secret"], hook["secret"].removeprefix("whsec_"), *(t["token"] for t in made)]:
        assert secret not in text


def test_export_needs_a_token(api_client):
    assert api_client.get(EXPORT).status_code == 401


def test_a_password_set_anywhere_else_revokes_refresh_tokens_too(api_client, alice):
    tokens = api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}).json()
    alice.set_password("set-by-an-admin-or-manage-py")  # what the admin form and changepassword do
    alice.save()
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401


def test_saving_the_profile_keeps_refresh_tokens_valid(api_client, alice_client):
    tokens = api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}).json()
    alice_client.patch(ME, {"display_name": "Still Alice", "timezone": "Asia/Tokyo"})
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 200
