from django.conf import settings
from django.db import models
from django.utils.timezone import now


class Tombstone(models.Model):
    """A deleted session or journal, as the sync feed reports it (`deleted: true`). Kept at
    least SYNC_TOMBSTONE_RETENTION (`manage.py purge_tombstones` removes older ones); a sync
    cursor older than that is refused with a 410, so no client can miss a deletion."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    object_id = models.BigIntegerField()
    sync_seq = models.BigIntegerField()
    deleted_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        # Made when the platform app held this model; kept, so no data moves.
        db_table = "focusflow_tombstone"
        indexes = [models.Index(fields=["user", "sync_seq"], name="tombstone_sync_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} (deleted {self.deleted_at:%Y-%m-%d})"


class SpentClientId(models.Model):
    """A client id whose object the user deleted. Kept for good (a phone can stay offline
    longer than tombstones are kept): a create that sends it again is a 410
    `client_id_deleted`, so a retried old upload cannot bring deleted data back. Written in
    the deleting transaction, read in the creating one, both under the user's row lock."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    client_id = models.UUIDField()
    spent_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "client_id"], name="spent_client_id_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id} (deleted {self.spent_at:%Y-%m-%d})"
