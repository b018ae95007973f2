"""Accounts that can be recovered: every row of the contract's v1.2 section, in-process.

Jobs run here with `run_queued_jobs` (the task functions the worker runs, with the arguments it
would read from the queue) and mail lands in Django's test outbox. The real worker, a real SMTP
server and gunicorn are in test_recovery_live.py.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from focusflow.testing import mailed_code, mailed_token, queued_jobs, run_queued_jobs
from users.models import AccountLink, User
from users.recovery import CODE_TRIES, Purpose, link_issue
from users.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/users/register/"
LOGIN = "/api/users/login/"
ME = "/api/users/me/"
RESET = "/api/users/password/reset/"
RESET_CONFIRM = "/api/users/password/reset/confirm/"
VERIFY = "/api/users/email/verify/"
RESEND = "/api/users/me/email/verify/resend/"
CHANGE = "/api/users/me/email/change/"
CHANGE_CONFIRM = "/api/users/email/change/confirm/"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def mails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def only_mail_to(address: str):
    run_queued_jobs()
    found = mails_to(address)
    assert len(found) == 1, [(m.to, m.subject) for m in mail.outbox]
    return found[0]


def html_part(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def login(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def ask_reset(client, email: str):
    return client.post(RESET, {"email": email}, format="json")


def reset_mail(client, user):
    assert ask_reset(client, user.email).status_code == 202
    return only_mail_to(user.email)


# --- the user object --------------------------------------------------------------------------


def test_the_user_object_says_whether_the_email_is_verified_and_what_change_is_pending(alice_client):
    body = alice_client.get(ME).json()
    assert body["email_verified"] is False
    assert body["pending_email"] is None


# --- verification on register ---------------------------------------------------------------


def test_register_mails_a_link_and_a_code_that_verify_the_address(api_client):
    response = api_client.post(
        REGISTER, {"email": "new@example.com", "password": PASSWORD, "display_name": "New"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["email_verified"] is False
    message = only_mail_to("new@example.com")
    assert "Confirm your email" in message.subject
    token = mailed_token(message.body)
    assert f"http://127.0.0.1:8000/verify-email?token={token}" in message.body
    assert f"verify-email?token={token}" in html_part(message)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", mailed_code(message.body))

    verified = api_client.post(VERIFY, {"token": token}, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["email_verified"] is True
    assert User.objects.get(email="new@example.com").email_verified
    again = api_client.post(VERIFY, {"token": token}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "verification_invalid")


def test_a_verification_email_carries_no_text_the_registrant_chose(api_client):
    name = '<a href="https://spam.example">Cheap pills</a>'
    api_client.post(
        REGISTER, {"email": "victim@example.com", "password": PASSWORD, "display_name": name}, format="json"
    )
    message = only_mail_to("victim@example.com")
    for text in (message.body, html_part(message), message.subject):
        assert "Cheap pills" not in text
        assert "spam.example" not in text


def test_links_in_emails_use_app_url_never_the_requests_host(api_client, settings):
    settings.APP_URL = "https://app.focusflow.example"
    api_client.post(
        REGISTER, {"email": "new@example.com", "password": PASSWORD}, format="json", HTTP_HOST="localhost"
    )
    message = only_mail_to("new@example.com")
    assert "https://app.focusflow.example/verify-email?token=" in message.body
    assert "localhost" not in message.body + html_part(message)


def test_the_code_verifies_when_signed_in_and_ignores_case_spaces_and_hyphens(client_for, api_client):
    api_client.post(REGISTER, {"email": "new@example.com", "password": PASSWORD}, format="json")
    code = mailed_code(only_mail_to("new@example.com").body)
    user = User.objects.get(email="new@example.com")
    typed = " " + code.replace("-", " ").lower() + " "
    response = client_for(user).post(VERIFY, {"code": typed}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["email_verified"] is True


def test_a_code_without_a_login_is_a_401(api_client, alice):
    response = api_client.post(VERIFY, {"code": "ABCD-EFGH"}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body", [{}, {"token": "x", "code": "ABCD-EFGH"}, {"token": ""}, {"code": ""}, {"token": ["x"]}]
)
def test_verify_needs_exactly_one_of_token_and_code(api_client, body):
    assert api_client.post(VERIFY, body, format="json").status_code == 400


def test_the_fifth_wrong_code_voids_the_code_but_not_the_link(client_for, api_client, settings):
    settings.RECOVERY_THROTTLE_RATE = None  # the tries, not the rate limit
    api_client.post(REGISTER, {"email": "new@example.com", "password": PASSWORD}, format="json")
    message = only_mail_to("new@example.com")
    user = User.objects.get(email="new@example.com")
    client = client_for(user)
    for _ in range(CODE_TRIES):
        response = client.post(VERIFY, {"code": "0000-0000"}, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "verification_invalid")
    response = client.post(VERIFY, {"code": mailed_code(message.body)}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "verification_invalid")
    assert api_client.post(VERIFY, {"token": mailed_token(message.body)}, format="json").status_code == 200


def test_resend_mails_a_new_link_and_the_old_one_dies(alice, alice_client, api_client):
    response = alice_client.post(RESEND)
    assert response.status_code == 202
    first = only_mail_to(alice.email)
    mail.outbox.clear()
    alice_client.post(RESEND)
    second = only_mail_to(alice.email)
    old = api_client.post(VERIFY, {"token": mailed_token(first.body)}, format="json")
    assert (old.status_code, old.json()["code"]) == (400, "verification_invalid")
    assert api_client.post(VERIFY, {"token": mailed_token(second.body)}, format="json").status_code == 200


def test_resend_is_rate_limited(alice_client, settings):
    settings.RECOVERY_THROTTLE_RATE = "2/hour"
    assert [alice_client.post(RESEND).status_code for _ in range(3)] == [202, 202, 429]


def test_a_verification_link_expires_after_three_days(alice, alice_client, api_client):
    alice_client.post(RESEND)
    token = mailed_token(only_mail_to(alice.email).body)
    with time_machine.travel(now() + timedelta(days=3, minutes=1)):
        response = api_client.post(VERIFY, {"token": token}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "verification_invalid")


# --- password reset ---------------------------------------------------------------------------


def sql_statements(queries) -> list[str]:
    """The statements, with their literal values blanked (the emails differ)."""
    return [re.sub(r"'(?:[^']|'')*'", "?", query["sql"]) for query in queries]


def test_a_reset_request_answers_and_works_the_same_with_or_without_an_account(api_client, alice):
    link_issue(user=alice, purpose=Purpose.RESET, email=alice.email)  # an earlier request's link
    answers, statements = [], []
    for email in (alice.email, "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = ask_reset(api_client, email)
        answers.append((response.status_code, response.content))
        statements.append(sql_statements(queries.captured_queries))
    assert answers[0] == answers[1]
    assert answers[0][0] == 202
    assert statements[0] == statements[1]
    jobs = queued_jobs()
    assert [(job["task_name"], sorted(job["args"])) for job in jobs] == [
        ("users.send_password_reset", ["email", "requested_at"]),
    ] * 2
    run_queued_jobs()
    assert len(mails_to(alice.email)) == 1
    assert mails_to("nobody@example.com") == []


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b@c", None])
def test_a_reset_request_for_a_malformed_email_is_a_400(api_client, email):
    response = api_client.post(RESET, {"email": email}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_reset_requests_are_limited_per_email_whether_or_not_it_has_an_account(api_client, alice, settings):
    settings.RECOVERY_THROTTLE_RATE = "2/hour"
    for email in (alice.email, "nobody@example.com"):
        statuses = [ask_reset(api_client, email).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
    refused = ask_reset(api_client, alice.email)
    assert int(refused["Retry-After"]) > 0


def test_reset_requests_are_limited_per_client_address_at_six_times_the_rate(api_client, settings):
    settings.RECOVERY_THROTTLE_RATE = "1/hour"
    statuses = [ask_reset(api_client, f"person{n}@example.com").status_code for n in range(7)]
    assert statuses == [202] * 6 + [429]


def test_the_reset_email_has_a_link_a_code_and_says_what_to_do_if_it_was_not_you(api_client, alice):
    message = reset_mail(api_client, alice)
    assert message.subject == "Reset your FocusFlow password"
    token = mailed_token(message.body)
    assert f"/reset-password?token={token}" in message.body
    assert mailed_code(message.body) in html_part(message)
    assert "30 minutes" in message.body
    assert "If it wasn't you" in message.body
    assert message.extra_headers["Message-ID"].startswith("<focusflow.link.")


def test_reset_by_link_sets_the_password_ends_every_login_and_verifies_the_email(api_client, alice):
    tokens = login(api_client, alice.email).json()
    token = mailed_token(reset_mail(api_client, alice).body)
    response = api_client.post(RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 204, response.content

    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    refreshed = api_client.post("/api/users/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert login(api_client, alice.email).status_code == 401
    assert login(api_client, alice.email, NEW_PASSWORD).status_code == 200
    alice.refresh_from_db()
    assert alice.email_verified
    mail.outbox.clear()
    notice = only_mail_to(alice.email)
    assert notice.subject == "Your FocusFlow password was changed"

    body = {"token": token, "new_password": "another-passphrase-88"}
    again = api_client.post(RESET_CONFIRM, body, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "reset_invalid")


def test_reset_by_email_and_code(api_client, alice):
    code = mailed_code(reset_mail(api_client, alice).body)
    body = {"email": "ALICE@example.com", "code": code.lower().replace("-", ""), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204
    assert login(api_client, alice.email, NEW_PASSWORD).status_code == 200


def test_a_weak_new_password_is_refused_before_anything_is_spent(api_client, alice):
    message = reset_mail(api_client, alice)
    for body in (
        {"token": mailed_token(message.body), "new_password": "123"},
        {"email": alice.email, "code": mailed_code(message.body), "new_password": "password"},
    ):
        response = api_client.post(RESET_CONFIRM, body, format="json")
        assert response.status_code == 400
        assert "new_password" in response.json()
    assert AccountLink.objects.get(user=alice).code_tries == 0
    body = {"email": alice.email, "code": mailed_code(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"new_password": NEW_PASSWORD},
        {"token": "x", "email": "alice@example.com", "code": "ABCD-EFGH", "new_password": NEW_PASSWORD},
        {"token": "x", "code": "ABCD-EFGH", "new_password": NEW_PASSWORD},
        {"email": "alice@example.com", "new_password": NEW_PASSWORD},
        {"code": "ABCD-EFGH", "new_password": NEW_PASSWORD},
        {"token": "x"},
    ],
)
def test_a_wrong_combination_of_fields_is_a_400(api_client, alice, body):
    response = api_client.post(RESET_CONFIRM, body, format="json")
    assert response.status_code == 400
    assert response.json().get("code") != "reset_invalid"


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "é" * 10])
def test_an_unknown_token_is_reset_invalid(api_client, alice, token):
    response = api_client.post(RESET_CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "reset_invalid")


def test_a_code_for_an_unknown_email_is_reset_invalid(api_client):
    body = {"email": "nobody@example.com", "code": "ABCD-EFGH", "new_password": NEW_PASSWORD}
    response = api_client.post(RESET_CONFIRM, body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "reset_invalid")


def test_a_new_request_voids_the_older_link_and_code(api_client, alice):
    first = reset_mail(api_client, alice)
    mail.outbox.clear()
    second = reset_mail(api_client, alice)
    for body in (
        {"token": mailed_token(first.body), "new_password": NEW_PASSWORD},
        {"email": alice.email, "code": mailed_code(first.body), "new_password": NEW_PASSWORD},
    ):
        response = api_client.post(RESET_CONFIRM, body, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "reset_invalid")
    body = {"token": mailed_token(second.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204


def test_the_job_of_an_older_request_run_late_does_not_void_a_newer_link(api_client, alice):
    ask_reset(api_client, alice.email)
    older = queued_jobs()[0]
    with connection.cursor() as cursor:  # the older job runs only after the newer one
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", [older["id"]])
    ask_reset(api_client, alice.email)
    run_queued_jobs()
    from users.jobs import send_password_reset

    send_password_reset.func(**older["args"])
    [message] = mails_to(alice.email)
    body = {"token": mailed_token(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204


def test_a_reset_link_expires_after_thirty_minutes(api_client, alice):
    token = mailed_token(reset_mail(api_client, alice).body)
    body = {"token": token, "new_password": NEW_PASSWORD}
    with time_machine.travel(now() + timedelta(minutes=31)):
        response = api_client.post(RESET_CONFIRM, body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "reset_invalid")


def test_a_reset_whose_job_runs_after_the_link_would_have_expired_sends_nothing(api_client, alice):
    ask_reset(api_client, alice.email)
    with time_machine.travel(now() + timedelta(minutes=31)):
        run_queued_jobs()
    assert mail.outbox == []


def test_five_wrong_codes_void_the_code_but_the_link_still_works(api_client, alice, settings):
    settings.RECOVERY_THROTTLE_RATE = None  # the tries, not the rate limit
    message = reset_mail(api_client, alice)
    for _ in range(CODE_TRIES):
        body = {"email": alice.email, "code": "0000-0000", "new_password": NEW_PASSWORD}
        assert api_client.post(RESET_CONFIRM, body, format="json").json()["code"] == "reset_invalid"
    body = {"email": alice.email, "code": mailed_code(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").json()["code"] == "reset_invalid"
    body = {"token": mailed_token(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204


def test_wrong_codes_count_under_the_recovery_rate(api_client, alice, settings):
    settings.RECOVERY_THROTTLE_RATE = "3/hour"
    body = {"email": alice.email, "code": "0000-0000", "new_password": NEW_PASSWORD}
    statuses = [api_client.post(RESET_CONFIRM, body, format="json").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_after_twenty_wrong_codes_a_day_only_links_work(api_client, alice, settings):
    settings.RECOVERY_THROTTLE_RATE = None  # the account's daily allowance, not the rate limit
    for _ in range(4):
        mail.outbox.clear()
        reset_mail(api_client, alice)
        for _ in range(CODE_TRIES):
            body = {"email": alice.email, "code": "0000-0000", "new_password": NEW_PASSWORD}
            api_client.post(RESET_CONFIRM, body, format="json")
    mail.outbox.clear()
    message = reset_mail(api_client, alice)
    body = {"email": alice.email, "code": mailed_code(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").json()["code"] == "reset_invalid"
    body = {"token": mailed_token(message.body), "new_password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204


def test_an_inactive_account_gets_no_reset_email(api_client):
    user = UserFactory(is_active=False)
    ask_reset(api_client, user.email)
    run_queued_jobs()
    assert mail.outbox == []


def test_a_password_change_voids_every_outstanding_link_and_code(api_client, alice, alice_client):
    message = reset_mail(api_client, alice)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert alice_client.post("/api/users/me/password/", body, format="json").status_code == 204
    body = {"token": mailed_token(message.body), "new_password": "another-passphrase-88"}
    assert api_client.post(RESET_CONFIRM, body, format="json").json()["code"] == "reset_invalid"


def test_a_rolled_back_request_leaves_no_job_and_a_committed_one_keeps_it(alice):
    from users import services

    def request_then_fail():
        with transaction.atomic():
            services.password_reset_request(email=alice.email)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        request_then_fail()
    assert queued_jobs() == []
    services.password_reset_request(email=alice.email)
    assert len(queued_jobs()) == 1


def test_deleting_the_account_ends_its_queued_mail(alice, alice_client):
    alice_client.post(RESEND)
    response = alice_client.delete(ME, {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    run_queued_jobs()
    assert mail.outbox == []


# --- email change ---------------------------------------------------------------------------


def change(client, new_email: str, password: str = PASSWORD):
    return client.post(CHANGE, {"new_email": new_email, "password": password}, format="json")


def test_an_email_change_mails_the_new_address_and_a_notice_with_an_undo_link_to_the_old(alice, alice_client):
    User.objects.filter(pk=alice.pk).update(email_verified=True)
    response = change(alice_client, "alice@new.example")
    assert response.status_code == 202, response.content
    assert alice_client.get(ME).json()["pending_email"] == "alice@new.example"
    assert alice_client.get(ME).json()["email"] == alice.email
    run_queued_jobs()
    [confirm] = mails_to("alice@new.example")
    [notice] = mails_to(alice.email)
    assert "/confirm-email?token=" in confirm.body
    assert mailed_code(confirm.body)
    assert "Alice" not in confirm.body  # not verified: no text the account chose
    assert "/undo-email-change?token=" in notice.body
    assert "alice@new.example" in notice.body
    assert not re.search(r"^\s+[0-9A-Z]{4}-[0-9A-Z]{4}$", notice.body, re.MULTILINE)


@pytest.mark.parametrize(
    ("new_email", "password", "field"),
    [
        ("alice@new.example", "wrong", "password"),
        ("bob@example.com", PASSWORD, "new_email"),
        ("BOB@Example.com", PASSWORD, "new_email"),
        ("alice@example.com", PASSWORD, "new_email"),
        ("ALICE@EXAMPLE.COM", PASSWORD, "new_email"),
        ("not-an-email", PASSWORD, "new_email"),
    ],
)
def test_an_email_change_is_refused_with_a_400(alice_client, bob, new_email, password, field):
    response = change(alice_client, new_email, password)
    assert response.status_code == 400
    assert field in response.json()
    assert queued_jobs() == []


def test_confirming_by_link_signed_out_changes_the_email_and_ends_every_login(
    alice, alice_client, api_client
):
    phone = login(api_client, alice.email).json()
    change(alice_client, "alice@new.example")
    run_queued_jobs()
    token = mailed_token(mails_to("alice@new.example")[0].body)
    response = api_client.post(CHANGE_CONFIRM, {"token": token}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["email"], body["email_verified"], body["pending_email"]) == ("alice@new.example", True, None)
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {phone['access']}").status_code == 401
    assert login(api_client, "alice@new.example").status_code == 200
    assert login(api_client, "alice@example.com").status_code == 401


def test_confirming_by_code_keeps_the_login_that_sent_it_and_ends_the_others(alice, client_for, api_client):
    phone = login(api_client, alice.email).json()
    laptop = login(api_client, alice.email).json()
    laptop_client = client_for(alice)
    laptop_client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    change(laptop_client, "alice@new.example")
    run_queued_jobs()
    code = mailed_code(mails_to("alice@new.example")[0].body)
    response = laptop_client.post(CHANGE_CONFIRM, {"code": code}, format="json")
    assert response.status_code == 200, response.content
    assert laptop_client.get(ME).json()["email"] == "alice@new.example"
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {phone['access']}").status_code == 401
    refreshed = api_client.post("/api/users/token/refresh/", {"refresh": laptop["refresh"]}, format="json")
    assert refreshed.status_code == 200


def test_an_address_taken_meanwhile_voids_the_change(alice, alice_client, api_client):
    change(alice_client, "alice@new.example")
    run_queued_jobs()
    token = mailed_token(mails_to("alice@new.example")[0].body)
    UserFactory(email="alice@new.example")
    response = api_client.post(CHANGE_CONFIRM, {"token": token}, format="json")
    assert response.status_code == 400
    assert "new_email" in response.json()
    assert alice_client.get(ME).json()["pending_email"] is None
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_the_undo_link_puts_the_old_address_back_and_ends_every_login(alice, alice_client, api_client):
    change(alice_client, "thief@new.example")
    run_queued_jobs()
    confirm = mailed_token(mails_to("thief@new.example")[0].body)
    undo = mailed_token(mails_to(alice.email)[0].body)
    assert api_client.post(CHANGE_CONFIRM, {"token": confirm}, format="json").status_code == 200
    thief = login(api_client, "thief@new.example").json()
    response = api_client.post(CHANGE_CONFIRM, {"token": undo}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == alice.email
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {thief['access']}").status_code == 401


def test_a_new_change_request_voids_the_earlier_one(alice, alice_client, api_client):
    change(alice_client, "first@new.example")
    run_queued_jobs()
    change(alice_client, "second@new.example")
    run_queued_jobs()
    first = mailed_token(mails_to("first@new.example")[0].body)
    response = api_client.post(CHANGE_CONFIRM, {"token": first}, format="json")
    assert response.json()["code"] == "verification_invalid"
    assert alice_client.get(ME).json()["pending_email"] == "second@new.example"


def test_the_pending_email_disappears_when_its_link_expires(alice, alice_client):
    change(alice_client, "alice@new.example")
    with time_machine.travel(now() + timedelta(hours=24, minutes=1)):
        assert alice_client.get(ME).json()["pending_email"] is None


def test_an_email_change_is_limited_by_the_password_rate(alice_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    statuses = [change(alice_client, f"n{n}@new.example", "wrong").status_code for n in range(3)]
    assert statuses == [400, 400, 429]


def test_a_change_code_needs_a_login(api_client):
    assert api_client.post(CHANGE_CONFIRM, {"code": "ABCD-EFGH"}, format="json").status_code == 401


def test_bob_cannot_confirm_alices_change_with_her_code(alice, alice_client, bob_client):
    change(alice_client, "alice@new.example")
    run_queued_jobs()
    code = mailed_code(mails_to("alice@new.example")[0].body)
    response = bob_client.post(CHANGE_CONFIRM, {"code": code}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "verification_invalid")


def test_a_stale_authorization_header_does_not_stop_a_link(alice, alice_client, api_client):
    change(alice_client, "alice@new.example")
    run_queued_jobs()
    token = mailed_token(mails_to("alice@new.example")[0].body)
    stale = {"HTTP_AUTHORIZATION": "Bearer junk"}
    response = api_client.post(CHANGE_CONFIRM, {"token": token}, format="json", **stale)
    assert response.status_code == 200


def test_other_devices_see_the_verification_and_the_pending_change_through_sync(
    alice, alice_client, api_client
):
    cursor = alice_client.get("/api/sync/").json()["cursor"]
    alice_client.post(RESEND)
    token = mailed_token(only_mail_to(alice.email).body)
    api_client.post(VERIFY, {"token": token}, format="json")
    change(alice_client, "alice@new.example")
    changes = alice_client.get("/api/sync/", {"cursor": cursor}).json()["changes"]
    [profile] = [entry["data"] for entry in changes if entry["type"] == "profile"]
    assert (profile["email_verified"], profile["pending_email"]) == (True, "alice@new.example")


@pytest.mark.parametrize(
    ("answer", "retried"), [("550 5.1.1 No such user", False), ("451 4.3.0 Try later", True)]
)
def test_a_mailbox_refused_for_good_ends_the_job_and_a_temporary_refusal_retries_it(
    alice, settings, smtp_sink, answer, retried
):
    import smtplib

    from users.mail import link_mail_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    smtp_sink.refuse[alice.email] = answer
    link = link_issue(user=alice, purpose=Purpose.VERIFY, email=alice.email)
    if retried:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            link_mail_send(link_id=link.pk)
    else:
        link_mail_send(link_id=link.pk)  # logged, not raised: the job ends
    del smtp_sink.refuse[alice.email]
    link_mail_send(link_id=link.pk)
    assert len(smtp_sink.to(alice.email)) == 1


def test_the_notice_to_an_unverified_old_address_does_not_name_the_new_one(alice, alice_client):
    change(alice_client, "whatever-text-i-like@new.example")
    run_queued_jobs()
    [notice] = mails_to(alice.email)
    assert "whatever-text-i-like" not in notice.body + html_part(notice)
    assert "to another address" in notice.body


def test_a_job_run_again_mails_a_new_link_and_only_the_newest_works(api_client, alice):
    from users.mail import link_mail_send

    link = AccountLink.objects.create(
        user=alice,
        purpose=Purpose.VERIFY,
        email=alice.email,
        requested_at=now(),
        expires_at=now() + timedelta(days=3),
    )
    link_mail_send(link_id=link.pk)
    link_mail_send(link_id=link.pk)  # a worker died after sending: the job runs again
    first, second = mails_to(alice.email)
    assert first.extra_headers["Message-ID"] != second.extra_headers["Message-ID"]
    old = api_client.post(VERIFY, {"token": mailed_token(first.body)}, format="json")
    assert old.json()["code"] == "verification_invalid"
    assert api_client.post(VERIFY, {"token": mailed_token(second.body)}, format="json").status_code == 200


def test_a_password_set_anywhere_voids_the_links_and_a_rehash_on_login_does_not(api_client, alice, settings):
    link = link_issue(user=alice, purpose=Purpose.RESET, email=alice.email)
    settings.PASSWORD_HASHERS = [  # a login upgrades the MD5 hash the factory stored
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert login(api_client, alice.email).status_code == 200
    assert User.objects.get(pk=alice.pk).password.startswith("pbkdf2_sha256$")  # rehashed
    assert AccountLink.objects.filter(pk=link.pk).exists()
    user = User.objects.get(pk=alice.pk)  # as `manage.py changepassword` and the admin do
    user.set_password(NEW_PASSWORD)
    user.save()
    assert not AccountLink.objects.filter(pk=link.pk).exists()
