from django.conf import settings
from django.db import models
from django.utils.timezone import now


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, replayed on retries.

    Stored in the database so it survives restarts and is shared by every app server; the
    unique (user, key) pair makes concurrent requests with one key do the work once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


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
        indexes = [models.Index(fields=["user", "sync_seq"], name="tombstone_sync_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} (deleted {self.deleted_at:%Y-%m-%d})"


class ThrottleCounter(models.Model):
    """A rate limit's count for one identity (a hashed client address, account or user) in
    its current window, when counts live in the database (no REDIS_URL): every worker and
    server on the database shares it, and `focusflow.throttling` updates it with one atomic
    upsert. One row per identity, whatever the number of windows; `purge_throttle_counters`
    deletes those whose window has ended."""

    key = models.CharField(max_length=64, primary_key=True, help_text="<scope>:<hash of the identity>")
    window_index = models.BigIntegerField(help_text="Seconds since the epoch, divided by the period.")
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True, help_text="The end of the window.")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
