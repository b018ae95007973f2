"""Tickets for `GET /api/events/?ticket=`: single-use, valid `EVENTS_TICKET_SECONDS`, stored
as a hash, spent by the one statement that finds them (of two racing uses, one wins)."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.utils import datetime_from_epoch

from focusflow.api.exceptions import AccountGone
from focusflow.events.credentials import Credential
from focusflow.events.models import EventTicket
from users.personal_tokens import PersonalTokenInvalid

# Tickets are URL-safe base64 of 32 random bytes (43 characters); anything much longer is not one.
_MAX_LENGTH = 100


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def event_ticket_issue(*, credential: Credential) -> tuple[str, int]:
    """A new ticket, and the seconds it stays valid: EVENTS_TICKET_SECONDS, or until the token
    that bought it expires, if sooner. It carries that token's scopes, if it had any."""
    ticket = secrets.token_urlsafe(32)
    token_expires_at = datetime_from_epoch(credential.expires_at)
    expires_at = min(timezone.now() + timedelta(seconds=settings.EVENTS_TICKET_SECONDS), token_expires_at)
    try:
        with transaction.atomic():
            _ticket_create(ticket, credential, token_expires_at=token_expires_at, expires_at=expires_at)
    except IntegrityError:  # its personal access token, or its account, was deleted meanwhile
        raise (PersonalTokenInvalid() if credential.personal_token_id else AccountGone()) from None
    return ticket, max(0, round((expires_at - timezone.now()).total_seconds()))


def _ticket_create(ticket: str, credential: Credential, *, token_expires_at, expires_at) -> None:
    EventTicket.objects.create(
        digest=_digest(ticket),
        user_id=credential.user_id,
        family=credential.family or "",
        token_version=credential.token_version or "",
        personal_token_id=credential.personal_token_id,
        scopes=sorted(credential.scopes) if credential.scopes is not None else None,
        token_expires_at=token_expires_at,
        expires_at=expires_at,
    )


def event_ticket_spend(ticket: str, *, spend: bool = True) -> Credential | None:
    """The credential a ticket carries, once: None for a ticket unknown, spent or expired, or
    whose token has expired. Whether its login still stands is the caller's question. With
    `spend=False`, the same answer, and the ticket stays (a request that cannot open its stream
    here must not use it up)."""
    if not ticket.isascii() or not 0 < len(ticket) <= _MAX_LENGTH:
        return None
    table = connection.ops.quote_name(EventTicket._meta.db_table)
    columns = "user_id, family, token_version, personal_token_id, scopes, token_expires_at, expires_at"
    sql = (
        f"DELETE FROM {table} WHERE digest = %s RETURNING {columns}"
        if spend
        else f"SELECT {columns} FROM {table} WHERE digest = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_digest(ticket)])
        row = cursor.fetchone()
    if row is None:
        return None
    user_id, family, token_version, personal_token_id, scopes, token_expires_at, expires_at = row
    now = timezone.now()
    if expires_at <= now or token_expires_at <= now:
        return None
    return Credential(
        user_id=user_id,
        family=family or None,
        token_version=token_version or None,
        personal_token_id=personal_token_id,
        scopes=frozenset(scopes) if scopes is not None else None,
        expires_at=token_expires_at.timestamp(),
    )


def event_tickets_purge() -> int:
    """Delete the tickets nobody used in time; returns how many went."""
    deleted, _ = EventTicket.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
