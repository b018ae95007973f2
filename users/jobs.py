"""The account's background work: its emails. Each job is a thin wrapper around a plain
function of `users.mail`, deferred in the transaction of the change that causes it."""

from datetime import datetime

from procrastinate.contrib.django import app

from focusflow.jobs.retry import Backoff
from users import mail

MAIL_QUEUE = "mail"


@app.task(name="users.send_link", queue=MAIL_QUEUE, retry=Backoff())
def send_link(*, link_id: int) -> None:
    mail.link_mail_send(link_id=link_id)


@app.task(name="users.send_password_reset", queue=MAIL_QUEUE, retry=Backoff())
def send_password_reset(*, email: str, requested_at: str) -> None:
    mail.password_reset_send(email=email, requested_at=datetime.fromisoformat(requested_at))


@app.task(name="users.send_password_changed", queue=MAIL_QUEUE, retry=Backoff())
def send_password_changed(*, user_id: int, changed_at: str) -> None:
    mail.password_changed_send(user_id=user_id, changed_at=datetime.fromisoformat(changed_at))


@app.task(name="users.send_personal_token_created", queue=MAIL_QUEUE, retry=Backoff())
def send_personal_token_created(*, token_id: int) -> None:
    mail.personal_token_created_send(token_id=token_id)
