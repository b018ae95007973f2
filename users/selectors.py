from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from focusflow.api.exceptions import AccountGone
from focusflow.db.rows import first_of
from users.export_sections import ExportSection, export_sections
from users.models import User


def user_profile(*, user: User) -> User:
    """The account as stored now: request.user may come from the authentication cache, and a
    profile shown must be the one another device may just have changed (and, with the
    database out of reach, a 503 rather than a copy)."""
    profile = first_of(User, pk=user.pk)
    if profile is None:
        raise AccountGone()
    return profile


@dataclass(frozen=True)
class UserExport:
    exported_at: datetime
    user: User
    sections: list[tuple[ExportSection, QuerySet]]


@contextmanager
def user_export_snapshot(*, user: User) -> Iterator[UserExport]:
    """Everything the account holds, as one consistent snapshot for as long as the block runs:
    the sections are read in one REPEATABLE READ transaction, so a journal
    written meanwhile cannot name a session the document leaves out."""
    # Only when this opens the transaction (the first statement must set its isolation).
    snapshot = not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        user = User.objects.get(pk=user.pk)
        yield UserExport(
            exported_at=timezone.now(),
            user=user,
            sections=[(section, section.rows(user=user)) for section in export_sections()],
        )
