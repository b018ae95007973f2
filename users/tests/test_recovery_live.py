"""Recovery as a person lives it: gunicorn answers, the real worker (`manage.py worker`) sends,
a real SMTP server receives. And the worker killed mid-send, and the SMTP server down."""

import signal
import time

import pytest
import requests

from deploy.check.smtp_sink import html_part, text_part
from focusflow.testing import mailed_code, mailed_token

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "a-brand-new-passphrase-77"


def post(server, path: str, body: dict, **headers) -> requests.Response:
    return requests.post(f"{server.url}{path}", json=body, headers=headers, timeout=10)


def test_register_verify_reset_through_gunicorn_a_running_worker_and_a_real_smtp_server(
    gunicorn, start_worker, smtp_sink
):
    start_worker(EMAIL_URL=smtp_sink.url)
    email = "dana@example.com"
    assert post(gunicorn, "/api/users/register/", {"email": email, "password": PASSWORD}).status_code == 201

    [welcome] = smtp_sink.wait_for(email)
    assert welcome["Subject"] == "Confirm your email address for FocusFlow"
    assert welcome["From"] == "FocusFlow <no-reply@localhost>"
    assert "/verify-email?token=" in html_part(welcome)
    verified = post(gunicorn, "/api/users/email/verify/", {"token": mailed_token(text_part(welcome))})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True

    tokens = post(gunicorn, "/api/users/login/", {"email": email, "password": PASSWORD}).json()
    assert post(gunicorn, "/api/users/password/reset/", {"email": email}).status_code == 202
    [_, reset] = smtp_sink.wait_for(email, count=2)
    code = mailed_code(text_part(reset))
    body = {"email": email, "code": code, "new_password": NEW_PASSWORD}
    assert post(gunicorn, "/api/users/password/reset/confirm/", body).status_code == 204

    old_access = {"Authorization": f"Bearer {tokens['access']}"}
    me = requests.get(f"{gunicorn.url}/api/users/me/", headers=old_access, timeout=10)
    assert me.status_code == 401
    assert post(gunicorn, "/api/users/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert post(gunicorn, "/api/users/login/", {"email": email, "password": NEW_PASSWORD}).status_code == 200
    [notice] = smtp_sink.wait_for(email, count=3)[2:]
    assert notice["Subject"] == "Your FocusFlow password was changed"


def test_a_worker_killed_while_sending_still_delivers_the_mail_once(gunicorn, start_worker, smtp_sink):
    post(gunicorn, "/api/users/register/", {"email": "erin@example.com", "password": PASSWORD})
    smtp_sink.hold_next()
    worker = start_worker(EMAIL_URL=smtp_sink.url)
    assert smtp_sink.holding.wait(timeout=30), "the worker never started sending"
    worker.kill()  # mid-DATA: the server never answered, so it keeps nothing

    start_worker(EMAIL_URL=smtp_sink.url)
    [message] = smtp_sink.wait_for("erin@example.com", timeout=60)
    time.sleep(3)  # nothing else follows
    assert len(smtp_sink.to("erin@example.com")) == 1
    assert message["Message-ID"].startswith("<focusflow.link.")


def test_with_the_smtp_server_down_requests_answer_at_once_and_the_mail_arrives_when_it_is_back(
    gunicorn, start_worker, smtp_sink
):
    start_worker(EMAIL_URL=smtp_sink.url)
    post(gunicorn, "/api/users/register/", {"email": "finn@example.com", "password": PASSWORD})
    smtp_sink.wait_for("finn@example.com")
    smtp_sink.stop()

    response = post(gunicorn, "/api/users/password/reset/", {"email": "finn@example.com"})
    assert response.status_code == 202  # the request sends nothing itself: SMTP is the worker's
    time.sleep(15)  # the worker tries and fails meanwhile
    assert len(smtp_sink.to("finn@example.com")) == 1

    smtp_sink.start()
    [_, reset] = smtp_sink.wait_for("finn@example.com", count=2, timeout=60)
    assert reset["Subject"] == "Reset your FocusFlow password"


def test_a_worker_stops_on_sigterm_after_the_job_in_hand(start_worker, smtp_sink):
    worker = start_worker(EMAIL_URL=smtp_sink.url)
    time.sleep(3)
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
