"""The account's emails, written and sent by the worker (users.jobs), never in a request.

Each has a plain-text and an HTML part from `templates/users/email/`; the HTML part escapes
every value. Links open the web app at APP_URL, never an address taken from a request. An
email to an address its owner has not proved to read greets nobody by name: the name is text
the registrant chose, and must not ride to someone else's inbox.

A link's email carries a token and code minted for it (users.recovery.link_mint), so a job
that runs again (its worker died mid-send) sends a new message, with its own Message-ID, and
only the newest works. The password-changed notice's Message-ID is fixed by the change, so a
second copy is the same message to a mail client.
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now

from focusflow.core.display import duration_text
from focusflow.jobs.mail import mail_message_id, mail_send
from focusflow.webhooks.models import Webhook
from users.models import AccountLink, PersonalAccessToken, User
from users.recovery import LIFETIMES, Purpose, link_issue, link_mint, reset_superseded

# A "your password was changed" notice older than this is not worth sending any more.
NOTICE_USEFUL_FOR = timedelta(days=3)

_LINKS = {
    Purpose.RESET: ("reset-password", "Reset your FocusFlow password", "Choose a new password"),
    Purpose.VERIFY: ("verify-email", "Confirm your email address for FocusFlow", "Confirm my email address"),
    Purpose.CHANGE: (
        "confirm-email",
        "Confirm your new email address for FocusFlow",
        "Confirm my new address",
    ),
    Purpose.UNDO: (
        "undo-email-change",
        "The email address of your FocusFlow account is changing",
        "Undo this change",
    ),
}


def _app_link(page: str, **query: str) -> str:
    return f"{settings.APP_URL}/{page}?{urlencode(query)}"


def _send(*, template: str, **kwargs) -> None:
    mail_send(template=f"users/email/{template}", **kwargs)


def _greeting(user: User, to: str) -> str:
    return user.display_name if user.email_verified and to == user.email else ""


def link_mail_send(*, link_id: int) -> None:
    """Mail a link and its code. Nothing is sent for a link that was used, voided, has
    expired, or whose account is gone: the email would be useless."""
    link = AccountLink.objects.select_related("user").filter(pk=link_id, expires_at__gt=now()).first()
    if link is None:
        return
    user = link.user
    new_email = None
    if link.purpose == Purpose.UNDO:
        if not user.pending_email and user.email == link.email:
            return  # the change was cancelled before the notice went: nothing to undo
        # The address the account is changing to is text the requester chose: only an owner
        # who proved to read this address is shown it.
        if user.email_verified and user.email == link.email:
            new_email = user.pending_email
    minted = link_mint(link)
    if minted is None:
        return  # used or voided meanwhile
    token, code = minted
    page, subject, button = _LINKS[link.purpose]
    lifetime = duration_text(LIFETIMES[link.purpose])
    _send(
        template=link.purpose,
        to=link.email,
        subject=subject,
        # Each minting is another message: an earlier one (a worker died sending it) no
        # longer works, and must not hide this one as its duplicate.
        message_id=mail_message_id("link", link.pk, token[:12]),
        greeting=_greeting(user, link.email),
        email=link.email,
        new_email=new_email,
        link=_app_link(page, token=token),
        button=button,
        code=code,
        expires_text=f"The link{' and the code' if code else ''} work once, for {lifetime}.",
    )


def password_reset_send(*, email: str, requested_at: datetime) -> None:
    """A reset request, seen by the worker: when an active account has `email`, issue its
    link (voiding older ones) and mail it. The request itself only recorded that a reset was
    asked for the address, the same work whether or not an account has it.

    Nothing is sent for a request that something later voided: a newer request for the address
    (users.recovery.reset_requested), or a password change or reset, or an email-change
    confirmation (`links_voided_at`). Run twice (a worker died), it mails the link again."""
    if requested_at + LIFETIMES[Purpose.RESET] <= now() or reset_superseded(email, requested_at):
        return
    with transaction.atomic():
        user = User.objects.filter_by_email(email).filter(is_active=True).select_for_update().first()
        if user is None or (user.links_voided_at and requested_at <= user.links_voided_at):
            return
        # Its own link when the job runs again; a newer request's is checked for above.
        link = AccountLink.objects.filter(
            user=user, purpose=Purpose.RESET, requested_at=requested_at
        ).first() or link_issue(user=user, purpose=Purpose.RESET, email=user.email, requested_at=requested_at)
    link_mail_send(link_id=link.pk)


def password_changed_send(*, user_id: int, changed_at: datetime) -> None:
    """Tell the account's address that its password was reset."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or changed_at + NOTICE_USEFUL_FOR <= now():
        return
    _send(
        template="password_changed",
        to=user.email,
        subject="Your FocusFlow password was changed",
        message_id=mail_message_id("password-changed", user.pk, int(changed_at.timestamp())),
        greeting=_greeting(user, user.email),
        email=user.email,
        reset_link=f"{settings.APP_URL}/reset-password",
        webhooks=list(
            Webhook.objects.filter(user=user, disabled_reason=Webhook.Disabled.PASSWORD_RESET).values_list(
                "url", flat=True
            )
        ),
    )


_SCOPE_WORDS = {
    "sessions:read": "read your sessions, tags and goals",
    "sessions:write": "change your sessions, tags and goals",
    "journals:read": "read your journal",
    "journals:write": "change your journal",
    "webhooks:manage": "manage your webhooks",
}


def personal_token_created_send(*, token_id: int) -> None:
    """Tell the account's address that a personal access token was made, and how to revoke
    it. Nothing is sent for a token deleted (or expired) before the worker got to it. Its name
    is text the requester chose: only an owner who proved to read the address is shown it."""
    token = (
        PersonalAccessToken.objects.select_related("user").filter(pk=token_id, expires_at__gt=now()).first()
    )
    if token is None:
        return
    user = token.user
    words = [_SCOPE_WORDS[scope] for scope in token.scopes if scope in _SCOPE_WORDS]
    _send(
        template="personal_token_created",
        to=user.email,
        subject="A personal access token was made for your FocusFlow account",
        message_id=mail_message_id("personal-token", token.pk),
        greeting=_greeting(user, user.email),
        email=user.email,
        name=token.name if user.email_verified else "",
        prefix=token.prefix,
        token_id=token.pk,
        scopes_text=", ".join(words) if words else "read your profile and the daily quote",
        expires_text_date=f"{token.expires_at:%Y-%m-%d %H:%M}",
    )
