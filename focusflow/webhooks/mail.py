"""Emails to a webhook's owner, written and sent by the worker: that a webhook was made, and
that one was disabled (its receiver answered 410 Gone, or failed every delivery for 3 days).
The URL is text its requester chose: only an owner who proved to read the address is shown it."""

from django.conf import settings

from focusflow.jobs.mail import mail_message_id, mail_send
from focusflow.webhooks.models import Webhook

_DISABLED = {
    Webhook.Disabled.GONE: "its receiver answered 410 Gone, which says it no longer wants deliveries",
    Webhook.Disabled.FAILING: "every delivery to it failed for 3 days",
}


def _context(webhook: Webhook) -> dict:
    user = webhook.user
    verified = user.email_verified
    return {
        "greeting": user.display_name if verified else "",
        "email": user.email,
        "url": webhook.url if verified else "",
        "webhook_id": webhook.pk,
        "events": ", ".join(webhook.events),
        "app_url": settings.APP_URL,
    }


def webhook_created_send(*, webhook_id: int) -> None:
    webhook = Webhook.objects.select_related("user").filter(pk=webhook_id).first()
    if webhook is None:
        return
    mail_send(
        template="webhooks/email/created",
        to=webhook.user.email,
        subject="A webhook was added to your FocusFlow account",
        message_id=mail_message_id("webhook-created", webhook.pk),
        **_context(webhook),
    )


def webhook_disabled_send(*, webhook_id: int) -> None:
    webhook = Webhook.objects.select_related("user").filter(pk=webhook_id).first()
    if webhook is None or webhook.disabled_reason not in _DISABLED:
        return  # deleted, or enabled again (or disabled otherwise) meanwhile
    mail_send(
        template="webhooks/email/disabled",
        to=webhook.user.email,
        subject="A webhook of your FocusFlow account was disabled",
        message_id=mail_message_id("webhook-disabled", webhook.pk, int(webhook.updated_at.timestamp())),
        reason=_DISABLED[webhook.disabled_reason],
        **_context(webhook),
    )
