from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from focusflow.export import export_sections
from users.models import User


def user_export(*, user: User) -> dict[str, Any]:
    """Everything the account holds, as one consistent snapshot: on PostgreSQL the sections
    are read in one REPEATABLE READ transaction, so a journal written meanwhile cannot name a
    session the document leaves out."""
    from users.serializers import UserSerializer

    # Only when this opens the transaction (the first statement must set its isolation).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        user = User.objects.get(pk=user.pk)
        return {
            "exported_at": timezone.now().isoformat(),
            "user": UserSerializer(user).data,
            **export_sections(user=user),
        }
