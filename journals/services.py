"""Journal rules: a reflection about a session is final; only the author ever sees one.

Every write takes the user's next change number first (`focusflow.sync.feed`), in its transaction.
"""

from uuid import UUID

from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from focus_sessions.models import FocusSession
from focusflow.api.conditional import if_match_check
from focusflow.sync.client_ids import client_fingerprint, client_id_replay
from focusflow.sync.feed import sync_seq_next, tombstone_add
from focusflow.webhooks.services import webhook_event
from journals.exceptions import JournalLocked
from journals.models import Journal
from journals.serializers import JournalSerializer
from users.models import User

NOT_YOUR_SESSION = "No such session among yours."


def journal_create(
    *, user: User, content: str, session_id: int | None = None, client_id: UUID | None = None
) -> tuple[Journal, bool]:
    """Write a journal, tied to one of the author's own sessions or free. Returns (journal,
    created): a retry with the same client id and fields returns the journal it made."""
    fingerprint = client_fingerprint("journal", {"content": content, "session": session_id})
    mine = Journal.objects.filter(user=user)
    with transaction.atomic():
        seq = sync_seq_next(user=user)
        existing = client_id_replay(
            mine,
            user=user,
            kind="journal",
            client_id=client_id,
            fingerprint=fingerprint,
            serializer=JournalSerializer,
        )
        if existing is not None:
            transaction.set_rollback(True)  # a retry changes nothing, not even the change counter
            return existing, False
        session = None
        if session_id is not None:
            session = FocusSession.objects.filter(user=user, pk=session_id).first()
            if session is None:
                raise exceptions.ValidationError({"session": [NOT_YOUR_SESSION]})
        journal = Journal(
            user=user,
            content=content,
            session=session,
            client_id=client_id,
            client_fingerprint=fingerprint if client_id else "",
            sync_seq=seq,
        )
        journal.save(force_insert=True)
        webhook_event(user=user, event="journal.created", obj=journal)
    return journal, True


def journal_for_change(*, user: User, journal_id: int) -> Journal:
    """The one check before any change: the caller's own journal (else a 404, whoever else's
    it is), and not tied to a session (else JournalLocked, a 403)."""
    journal = Journal.objects.filter(user=user, pk=journal_id).first()
    if journal is None:
        raise exceptions.NotFound()
    if not journal.editable:
        raise JournalLocked()
    return journal


def journal_update(*, user: User, journal_id: int, content: str, if_match: str | None = None) -> Journal:
    """Rewrite a journal, checked again under the user's lock (a concurrent delete is a 404).
    With `If-Match`, only while it is at that version. The same text is no change."""
    with transaction.atomic():
        seq = sync_seq_next(user=user)
        journal = journal_for_change(user=user, journal_id=journal_id)
        if_match_check(journal, if_match, serializer=JournalSerializer)
        if content == journal.content:
            transaction.set_rollback(True)
            return journal
        journal.content = content
        journal.version += 1
        journal.sync_seq = seq
        journal.updated_at = timezone.now()
        journal.save(update_fields=["content", "version", "sync_seq", "updated_at"])
        webhook_event(user=user, event="journal.updated", obj=journal)
    return journal


def journal_delete(*, user: User, journal_id: int, if_match: str | None = None) -> None:
    """Delete a journal; of two concurrent deletes one gets the 204 and the other a 404."""
    with transaction.atomic():
        seq = sync_seq_next(user=user)
        journal = journal_for_change(user=user, journal_id=journal_id)
        if_match_check(journal, if_match, serializer=JournalSerializer)
        journal.delete()
        tombstone_add(user=user, kind="journal", object_id=journal_id, seq=seq, client_id=journal.client_id)
        webhook_event(user=user, event="journal.deleted", object_id=journal_id)
