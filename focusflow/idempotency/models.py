from django.conf import settings
from django.db import models
from django.utils.timezone import now

# An Idempotency-Key header: 1 to this many printable characters.
MAX_KEY_LENGTH = 255


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an `Idempotency-Key`, replayed on retries.

    Stored in the database so it survives restarts and is shared by every app server; the
    unique (user, key) pair makes concurrent requests with one key do the work once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        # Made when the platform app held this model; kept, so no data moves.
        db_table = "focusflow_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
