"""Journal rules: a reflection about a session is final; only the author ever sees one."""

from django.utils import timezone
from rest_framework import exceptions, status

from focus_sessions.models import FocusSession
from focusflow.exceptions import DomainError
from journals.models import Journal

NOT_YOUR_SESSION = "No such session among yours."


class JournalLocked(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This journal is tied to a focus session and can no longer be changed or deleted."
    default_code = "journal_locked"


def journal_create(*, user, content: str, session_id: int | None = None) -> Journal:
    """Write a journal, tied to one of the author's own sessions or free."""
    session = None
    if session_id is not None:
        session = FocusSession.objects.filter(user=user, pk=session_id).first()
        if session is None:
            raise exceptions.ValidationError({"session": [NOT_YOUR_SESSION]})
    return Journal.objects.create(user=user, content=content, session=session)


def journal_check_editable(journal: Journal) -> None:
    """A journal tied to a session is final: JournalLocked (403) for any change."""
    if not journal.editable:
        raise JournalLocked()


def journal_update(*, journal: Journal, content: str | None = None) -> Journal:
    """One UPDATE of a free journal; if a concurrent request deleted it meanwhile, a 404."""
    journal_check_editable(journal)
    if content is not None:
        stamp = timezone.now()
        if not Journal.objects.filter(pk=journal.pk, session__isnull=True).update(
            content=content, updated_at=stamp
        ):
            raise exceptions.NotFound()
        journal.content, journal.updated_at = content, stamp
    return journal


def journal_delete(*, journal: Journal) -> None:
    """Of two concurrent deletes of one journal, one gets the 204 and the other a 404."""
    journal_check_editable(journal)
    deleted, _ = Journal.objects.filter(pk=journal.pk, session__isnull=True).delete()
    if not deleted:
        raise exceptions.NotFound()
