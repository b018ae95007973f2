"""The webhooks' background work: each delivery attempt, and the emails to their owners. Each
job is a thin wrapper around a plain function, deferred in the transaction that causes it."""

from procrastinate.contrib.django import app

from focusflow.jobs.retry import Backoff

QUEUE = "webhooks"


@app.task(name="webhooks.deliver", queue=QUEUE, retry=Backoff(first=5, longest=300))
def deliver(*, message_id: str, manual: bool = False) -> None:
    """One attempt; a failed one schedules the next itself (focusflow.webhooks.services). The job is
    retried only when the attempt could not even be recorded (the database was out of reach)."""
    from focusflow.webhooks.services import webhook_message_attempt

    webhook_message_attempt(message_id=message_id, manual=manual)


@app.task(name="webhooks.send_created", queue="mail", retry=Backoff())
def send_webhook_created(*, webhook_id: int) -> None:
    from focusflow.webhooks.mail import webhook_created_send

    webhook_created_send(webhook_id=webhook_id)


@app.task(name="webhooks.send_disabled", queue="mail", retry=Backoff())
def send_webhook_disabled(*, webhook_id: int) -> None:
    from focusflow.webhooks.mail import webhook_disabled_send

    webhook_disabled_send(webhook_id=webhook_id)
