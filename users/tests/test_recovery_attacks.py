"""Attacks on account recovery (issue 18, contract v1.2 "Accounts that can be recovered").

Every test here fails against commit 79b100b: each is a defect against the contract, or an
attack that works. Jobs run in-process with `run_queued_jobs`; races use real threads, each on
its own database connection (`transaction=True`).
"""

from datetime import timedelta

import pytest
import redis
import requests
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.crypto import salted_hmac
from django.utils.timezone import now
from rest_framework.test import APIClient

from focusflow.testing import (
    TEST_REDIS_URL,
    all_at_once,
    mailed_code,
    mailed_token,
    run_queued_jobs,
    send_all_at_once,
)
from users.models import AccountLink, User
from users.recovery import CODE_TRIES
from users.tests.factories import PASSWORD, UserFactory
from users.tests.test_recovery import (
    CHANGE,
    CHANGE_CONFIRM,
    LOGIN,
    ME,
    NEW_PASSWORD,
    REGISTER,
    RESET,
    RESET_CONFIRM,
    html_part,
    mails_to,
    reset_mail,
    sql_statements,
)

PASSWORD_CHANGE = "/api/users/me/password/"
SYNC = "/api/sync/"


def login(client, email: str, password: str = PASSWORD) -> dict:
    response = client.post(LOGIN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(tokens: dict) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}


# --- Emails: no text the registrant chose to an address nobody proved to read ---------------------


@pytest.mark.django_db
def test_the_undo_notice_to_an_unverified_address_carries_no_text_the_registrant_chose(api_client):
    """Contract: "an email to an address not yet verified carries no text the registrant chose".
    Anybody can register somebody else's address (nothing is refused to an unverified account)
    and then ask to change it to an address whose local part is a message: the notice with the
    undo link goes to the victim's (never verified) inbox, From FocusFlow, with that text in it.
    Twenty times a minute (AUTH_THROTTLE_RATE), with a new text each time."""
    victim = "victim@example.com"
    registered = api_client.post(REGISTER, {"email": victim, "password": PASSWORD}, format="json")
    assert registered.status_code == 201
    run_queued_jobs()  # the verification email
    spammer = APIClient()
    spammer.credentials(**bearer(login(spammer, victim)))
    spam = '"cheap-pills-at-https://spam.example/buy"@spam.example'
    response = spammer.post(CHANGE, {"new_email": spam, "password": PASSWORD}, format="json")
    assert response.status_code == 202, response.content
    mail.outbox.clear()
    run_queued_jobs()
    [notice] = mails_to(victim)
    assert not User.objects.get(email=victim).email_verified
    for text in (notice.body, html_part(notice)):
        assert "spam.example" not in text
        assert "cheap-pills" not in text


# --- Other devices learn every change of the user object (the sync feed's profile entry) ----------


@pytest.mark.django_db
def test_a_password_change_that_cancels_a_pending_email_change_is_a_profile_change_for_other_devices(
    alice, client_for
):
    """Contract: "Any change to the user object (`email`, `email_verified` and `pending_email`
    included) is one `profile` entry". A password change voids the pending change (rightly),
    so `pending_email` goes from the new address to null, but the account's change number does
    not move: a phone that synced the pending address shows it for the next 24 hours."""
    phone = client_for(alice)
    body = {"new_email": "alice@new.example", "password": PASSWORD}
    assert phone.post(CHANGE, body, format="json").status_code == 202
    first = phone.get(SYNC).json()
    [profile] = [c for c in first["changes"] if c["type"] == "profile"]
    assert profile["data"]["pending_email"] == "alice@new.example"

    laptop = client_for(alice)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert laptop.post(PASSWORD_CHANGE, body, format="json").status_code == 204
    alice.refresh_from_db()
    phone = client_for(alice)  # signed in again, with the new password
    assert phone.get(ME).json()["pending_email"] is None

    later = phone.get(SYNC, {"cursor": first["cursor"]}).json()
    profiles = [c for c in later["changes"] if c["type"] == "profile"]
    assert profiles, "no profile entry: the device keeps showing the cancelled pending_email"
    assert profiles[-1]["data"]["pending_email"] is None


# --- The undo link ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_thief_cannot_defeat_the_undo_link_by_registering_the_old_address(alice, api_client):
    """Somebody with alice's password changes her address to theirs and confirms it. The undo
    link (7 days) is alice's only way back: the reset now goes to the thief's address. The
    thief then registers alice@example.com for a throwaway account (no verification needed), and
    alice's undo is a 400: she cannot get her address back, and the thief's logins are not even
    ended (the revocation is skipped when the old address is taken). Expected: the undo works
    (the old address stays reserved for the account while its undo link lives), or at the very
    least ends every login of the account."""
    thief = APIClient()
    thief_tokens = login(thief, alice.email)
    thief.credentials(**bearer(thief_tokens))
    body = {"new_email": "thief@evil.example", "password": PASSWORD}
    assert thief.post(CHANGE, body, format="json").status_code == 202
    run_queued_jobs()
    code = mailed_code(mails_to("thief@evil.example")[0].body)
    undo = mailed_token(mails_to(alice.email)[0].body)
    assert thief.post(CHANGE_CONFIRM, {"code": code}, format="json").status_code == 200
    squatter = {"email": "alice@example.com", "password": PASSWORD}
    refused = api_client.post(REGISTER, squatter, format="json")  # held by the undo link
    assert (refused.status_code, "email" in refused.json()) == (400, True)

    response = api_client.post(CHANGE_CONFIRM, {"token": undo}, format="json")
    thief_still_in = thief.get(ME).status_code == 200
    assert (response.status_code, thief_still_in) == (200, False), (response.content, thief_still_in)


# --- Voiding: "a new request voids the older ones"; "any password change ... voids every
# outstanding reset ... link and code" ---------------------------------------------------------


@pytest.mark.django_db
def test_a_new_reset_request_voids_the_older_link_when_it_is_answered(api_client, alice):
    """Contract: "a new request voids the older ones". The 202 of the new request is the client's
    signal; the older link keeps working until a worker gets to the new request's job (forever
    while the worker is down)."""
    old = reset_mail(api_client, alice)
    assert api_client.post(RESET, {"email": alice.email}, format="json").status_code == 202
    # The worker has not run the new request's job yet.
    body = {"token": mailed_token(old.body), "new_password": NEW_PASSWORD}
    response = api_client.post(RESET_CONFIRM, body, format="json")
    assert response.status_code == 400, "the older link still set the password"


@pytest.mark.django_db
def test_a_password_change_voids_a_reset_request_still_in_the_queue(api_client, alice, alice_client):
    """Contract: "Any password change or reset ... voids every outstanding reset ... link and
    code of the account." A reset asked for before the change, whose job runs after it, still
    mails a link that works: the password changed after the request is reset anyway."""
    assert api_client.post(RESET, {"email": alice.email}, format="json").status_code == 202
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert alice_client.post(PASSWORD_CHANGE, body, format="json").status_code == 204
    run_queued_jobs()
    for message in mails_to(alice.email):
        if "?token=" in message.body:
            body = {"token": mailed_token(message.body), "new_password": "yet-another-passphrase-99"}
            response = api_client.post(RESET_CONFIRM, body, format="json")
            assert response.status_code == 400, "a reset asked for before the password change still works"


# --- Enumeration on the confirm ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_confirm_does_the_same_work_whether_or_not_the_email_has_an_account(api_client, alice):
    """The confirm says it judges "against the address given, account or not: the answer tells
    nothing of it", and the body is the same; but an address with an account costs more
    queries (its reset link looked up, the try counted) than one without, so the time taken
    tells which addresses have accounts."""
    reset_mail(api_client, alice)
    statements = []
    for email in (alice.email, "nobody@example.com"):
        body = {"email": email, "code": "0000-0000", "new_password": NEW_PASSWORD}
        with CaptureQueriesContext(connection) as queries:
            response = api_client.post(RESET_CONFIRM, body, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "reset_invalid")
        statements.append(sql_statements(queries.captured_queries))
    assert len(statements[0]) == len(statements[1]), statements


# --- Limits under concurrency --------------------------------------------------------------------


def _racing_wrong_codes(email: str, n: int) -> list[int]:
    def guess(i: int) -> int:
        body = {"email": email, "code": f"{i:04d}-0000", "new_password": NEW_PASSWORD}
        return APIClient().post(RESET_CONFIRM, body, format="json").status_code

    return all_at_once(guess, n)


@pytest.mark.django_db(transaction=True)
def test_racing_wrong_codes_get_more_than_five_tries_at_one_code(settings):
    """Contract: "Each code allows 5 wrong tries and is then void". The link is read, the code
    compared, and the try counted in separate statements, so guesses sent together are all
    compared with the live code: more than 5 wrong codes are tried against one code (the
    count of tries the server itself keeps says so). A few rounds, each with a new link."""
    settings.RECOVERY_THROTTLE_RATE = None  # the code's tries, not the rate limits
    settings.RECOVERY_CODES_RATE = None
    user = UserFactory(email="racer@example.com")
    tried = []
    for _ in range(5):
        mail.outbox.clear()
        reset_mail(APIClient(), user)
        statuses = _racing_wrong_codes(user.email, 40)
        assert set(statuses) == {400}
        tried.append(AccountLink.objects.get(user=user, purpose="reset").code_tries)
    assert max(tried) <= CODE_TRIES, f"wrong codes tried against one code, per round: {tried}"


@pytest.mark.django_db(transaction=True)
def test_racing_wrong_codes_are_not_held_by_the_recovery_rate(settings):
    """Contract: wrong codes "count under RECOVERY_THROTTLE_RATE". The limit is only peeked at
    before the code is checked and counted after it failed, so guesses sent together all pass:
    at 3/hour, 30 wrong codes sent at once are all checked (400), none refused (429)."""
    settings.RECOVERY_THROTTLE_RATE = "3/hour"
    user = UserFactory(email="racer@example.com")
    reset_mail(APIClient(), user)
    statuses = _racing_wrong_codes(user.email, 30)
    assert statuses.count(400) <= 3, statuses


# --- Storage: "stored only as keyed hashes" ---------------------------------------------------------


@pytest.mark.django_db
def test_a_database_copy_and_the_server_key_do_not_give_working_reset_links(api_client, alice, settings):
    """Contract: "Tokens and codes are ... stored only as keyed hashes (HMAC with a server key)".
    Whoever reads the table (a backup, a read replica) and has the key must still not hold a
    working link: the row keeps nothing a token or code could be rebuilt from."""
    message = reset_mail(api_client, alice)
    token, code = mailed_token(message.body), mailed_code(message.body)
    with connection.cursor() as cursor:  # what a copy of the database shows
        cursor.execute("SELECT * FROM users_accountlink WHERE purpose = 'reset'")
        columns = [column.name for column in cursor.description]
        [row] = cursor.fetchall()
    assert set(columns) == {
        *("id", "user_id", "purpose", "email", "token_hash", "code_hash"),
        *("code_tries", "requested_at", "expires_at"),
    }
    stored = " ".join(str(value) for value in row)
    assert token not in stored
    assert code.replace("-", "") not in stored.upper().replace("-", "")
    row = dict(zip(columns, row, strict=True))
    expected = salted_hmac(
        "focusflow.account-link.token", token, secret=settings.SECRET_KEY, algorithm="sha256"
    )
    assert row["token_hash"] == expected.hexdigest()


@pytest.mark.django_db
def test_an_expired_pending_email_change_is_a_profile_change_for_other_devices(alice, client_for):
    """Contract: any change to the user object (`pending_email` included) is one `profile`
    entry. 24 hours after the request, `GET me/` shows `pending_email: null`, but nothing ever
    tells the sync feed (not even the daily purge of expired links): a device keeps showing
    "waiting for alice@new.example" for good."""
    phone = client_for(alice)
    body = {"new_email": "alice@new.example", "password": PASSWORD}
    assert phone.post(CHANGE, body, format="json").status_code == 202
    first = phone.get(SYNC).json()
    with time_machine.travel(now() + timedelta(hours=25), tick=False):
        call_command("purge_account_links")
        assert phone.get(ME).json()["pending_email"] is None
        later = phone.get(SYNC, {"cursor": first["cursor"]}).json()
    profiles = [c for c in later["changes"] if c["type"] == "profile"]
    assert profiles, "no profile entry: the device keeps the expired pending_email"
    assert profiles[-1]["data"]["pending_email"] is None


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_over_http_racing_wrong_codes_pass_every_limit_at_once(gunicorn):
    """The same through gunicorn (4 workers x 4 threads) with the shared Redis counters, at the
    default RECOVERY_THROTTLE_RATE (5/hour per email): one reset request, then 24 wrong codes
    sent together. At most 4 more attempts may be checked for this email this hour, and at
    most 5 against this code; far more are."""
    rounds = []
    for n in range(3):  # a few rounds, each with its own email and fresh counts
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        user = UserFactory(email=f"http-racer{n}@example.com")
        url = f"{gunicorn.url}{RESET}"
        assert requests.post(url, json={"email": user.email}, timeout=10).status_code == 202
        run_queued_jobs()
        calls = [
            ("POST", f"{gunicorn.url}{RESET_CONFIRM}",
             {"json": {"email": user.email, "code": f"{i:04d}-0000", "new_password": NEW_PASSWORD}})
            for i in range(24)
        ]  # fmt: skip
        statuses = [response.status_code for response in send_all_at_once(calls)]
        tries = AccountLink.objects.get(user=user, purpose="reset").code_tries
        rounds.append((statuses.count(400), tries))
    checked = max(checked for checked, _ in rounds)
    tries = max(tries for _, tries in rounds)
    where = f"(codes checked, tries at one code) per round: {rounds}"
    assert (checked <= 4, tries <= CODE_TRIES) == (True, True), where


# --- Codes as people type them: "input ignores case, spaces and hyphens" ---------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "separator",
    [
        "\u00a0",  # NO-BREAK SPACE: what a copy from an HTML email or a PDF often gives
        "\t",
        "\u3000",  # IDEOGRAPHIC SPACE: the space key of a Japanese or Chinese keyboard
        "\u2010",  # HYPHEN
        "\u2011",  # NON-BREAKING HYPHEN: what text layout puts in "XXXX-XXXX" to keep it whole
    ],
)
def test_a_code_typed_with_another_space_or_hyphen_works(api_client, alice, separator, settings):
    """Contract: the code's "input ignores case, spaces and hyphens". Only U+0020 and U+002D
    are ignored: the right code with a no-break space, a tab or a Unicode hyphen is refused as
    reset_invalid, and each such try uses up one of the code's 5 and of the day's 20."""
    settings.RECOVERY_THROTTLE_RATE = None
    code = mailed_code(reset_mail(api_client, alice).body)
    body = {"email": alice.email, "code": code.replace("-", separator), "new_password": NEW_PASSWORD}
    response = api_client.post(RESET_CONFIRM, body, format="json")
    assert response.status_code == 204, response.content
