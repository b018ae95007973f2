"""Every place that checks a password is limited (AUTH_THROTTLE_RATE), per client address and
per account: API login and register, password change, account deletion, the admin's login
and its own password change."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from users.models import User
from users.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/users/login/"
REGISTER = "/api/users/register/"
ME = "/api/users/me/"
PASSWORD_URL = "/api/users/me/password/"
ADMIN_LOGIN = "/admin/login/"
NEW_PASSWORD = "a-brand-new-passphrase"
T = datetime(2026, 11, 20, 9, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _five_a_minute(settings):
    settings.AUTH_THROTTLE_RATE = "5/minute"


@pytest.fixture(autouse=True)
def _one_minute():
    """Each test inside one calendar minute, the limits' window, however slowly the suite runs
    (a test that crossed a minute saw its count start again)."""
    with time_machine.travel(T, tick=False):
        yield


def test_guessing_the_current_password_with_a_stolen_token_stops_at_the_limit(alice_client, alice):
    wrong = [
        alice_client.post(PASSWORD_URL, {"current_password": f"guess-{i}", "new_password": NEW_PASSWORD})
        for i in range(5)
    ]
    assert {response.status_code for response in wrong} == {400}
    right = alice_client.post(PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert right.status_code == 429
    assert right.json()["code"] == "throttled"
    assert 1 <= int(right["Retry-After"]) <= 60
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)  # no takeover


def test_guessing_the_password_to_delete_the_account_stops_at_the_limit(alice_client, alice):
    codes = [alice_client.delete(ME, {"password": f"guess-{i}"}).status_code for i in range(5)]
    assert codes == [400] * 5
    assert alice_client.delete(ME, {"password": PASSWORD}).status_code == 429
    assert User.objects.filter(pk=alice.pk).exists()


def test_one_account_gets_the_rate_whatever_the_number_of_addresses(api_client, alice):
    body = {"email": "alice@example.com", "password": "wrong-password-1"}
    codes = [api_client.post(LOGIN, body, REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    body = {"email": "ALICE@example.com", "password": PASSWORD}  # any spelling of the account
    assert api_client.post(LOGIN, body, REMOTE_ADDR="203.0.113.1").status_code == 429
    bob = {"email": "bob@example.com", "password": "wrong-password-1"}
    assert api_client.post(LOGIN, bob, REMOTE_ADDR="203.0.113.1").status_code == 401


def test_login_password_change_and_deletion_share_the_accounts_count(api_client, alice_client, alice):
    for i in range(3):
        api_client.post(
            LOGIN, {"email": "alice@example.com", "password": f"guess-{i}"}, REMOTE_ADDR=f"10.0.0.{i}"
        )
    alice_client.post(PASSWORD_URL, {"current_password": "guess-3", "new_password": NEW_PASSWORD})
    alice_client.delete(ME, {"password": "guess-4"})
    assert alice_client.delete(ME, {"password": PASSWORD}).status_code == 429


def test_register_counts_too(api_client):
    codes = [
        api_client.post(REGISTER, {"email": f"new{i}@example.com", "password": PASSWORD}).status_code
        for i in range(6)
    ]
    assert codes == [201] * 5 + [429]


def test_an_address_over_its_limit_does_not_spend_the_accounts(api_client, alice):
    attacker = "10.6.6.6"
    for i in range(4):
        api_client.post(LOGIN, {"email": f"other{i}@example.com", "password": "x"}, REMOTE_ADDR=attacker)
    attempts = [
        api_client.post(LOGIN, {"email": "alice@example.com", "password": f"guess-{i}"}, REMOTE_ADDR=attacker)
        for i in range(4)
    ]
    assert [response.status_code for response in attempts] == [401, 429, 429, 429]
    # Only the one attempt let through counted against alice: she has four left.
    bodies = [{"email": "alice@example.com", "password": f"typo-{i}"} for i in range(3)]
    bodies.append({"email": "alice@example.com", "password": PASSWORD})
    codes = [api_client.post(LOGIN, body, REMOTE_ADDR="10.1.1.1").status_code for body in bodies]
    assert codes == [401, 401, 401, 200]


def test_a_reached_limit_ends_with_its_window(api_client, alice):
    body = {"email": "alice@example.com", "password": "wrong-password-1"}
    with time_machine.travel(T, tick=False):
        for _ in range(6):
            api_client.post(LOGIN, body)
        refused = api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD})
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 55
    with time_machine.travel(T + timedelta(seconds=56), tick=False):
        assert api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD}).status_code == 200


def test_off_turns_every_password_check_limit_off(alice_client, settings):
    settings.AUTH_THROTTLE_RATE = None
    codes = {
        alice_client.post(PASSWORD_URL, {"current_password": "x", "new_password": NEW_PASSWORD}).status_code
        for _ in range(10)
    }
    assert codes == {400}


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root@example.com", "an-admin-passphrase")


def test_the_admin_login_is_limited_and_says_so(root):
    browser = Client(enforce_csrf_checks=False)
    for i in range(5):
        page = browser.post(ADMIN_LOGIN, {"username": "root@example.com", "password": f"guess-{i}"})
        assert page.status_code == 200
        assert b"Please enter the correct email address and password" in page.content
    page = browser.post(ADMIN_LOGIN, {"username": "root@example.com", "password": "an-admin-passphrase"})
    assert page.status_code == 429
    assert 1 <= int(page["Retry-After"]) <= 60
    assert b"Too many password attempts from this address or for this account." in page.content
    assert "_auth_user_id" not in browser.session  # the right password did not let it in


def test_the_admin_login_and_the_api_share_one_count(api_client, root):
    for i in range(5):
        api_client.post(
            LOGIN, {"email": "root@example.com", "password": f"guess-{i}"}, REMOTE_ADDR=f"10.0.1.{i}"
        )
    page = Client().post(ADMIN_LOGIN, {"username": "ROOT@example.com", "password": "an-admin-passphrase"})
    assert page.status_code == 429


def test_the_admins_own_password_change_is_limited(client, root):
    client.force_login(root)
    for i in range(5):
        page = client.post(
            "/admin/password_change/",
            {"old_password": f"guess-{i}", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert page.status_code == 200
    page = client.post(
        "/admin/password_change/",
        {"old_password": "an-admin-passphrase", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert page.status_code == 429
    assert b"Too many password attempts" in page.content
    root.refresh_from_db()
    assert root.check_password("an-admin-passphrase")


def test_the_admins_own_password_change_still_works(client, root):
    client.force_login(root)
    page = client.post(
        "/admin/password_change/",
        {"old_password": "an-admin-passphrase", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert page.status_code == 302
    root.refresh_from_db()
    assert root.check_password(NEW_PASSWORD)
