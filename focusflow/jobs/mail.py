"""Sending one email, as every feature's mail job does: a plain-text and an HTML part rendered
from `<templates>.txt` and `.html` (the HTML part escapes every value), with a Message-ID of
our own. A 4xx from the server raises (the job tries again later); a 5xx refusing the message
for good is logged and dropped, since trying again would get the same answer."""

import logging
import smtplib
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def mail_message_id(kind: str, *parts) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<focusflow.{kind}.{'.'.join(str(part) for part in parts)}@{domain}>"


def mail_send(*, template: str, to: str, subject: str, message_id: str, **context) -> None:
    """Send `template` (a template path without its extension) to `to`."""
    context["subject"] = subject
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        headers={"Message-ID": message_id},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
        if not _permanent(exc):
            raise  # 4xx: the server asks to try again later, and the job will
        # 5xx: the server refuses this message for good (no such mailbox, content refused);
        # trying again would get the same answer until the link expires.
        logger.warning("Email %s to %s refused for good: %s", message_id, to, exc)


def _permanent(exc: smtplib.SMTPException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return exc.smtp_code >= 500
