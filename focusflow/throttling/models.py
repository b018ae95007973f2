from django.db import models


class ThrottleCounter(models.Model):
    """A rate limit's count for one identity (a hashed client address, account or user) in
    its current window, when counts live in the database (no REDIS_URL): every worker and
    server on the database shares it, and `focusflow.throttling.limits` updates it with one atomic
    upsert. One row per identity, whatever the number of windows; `purge_throttle_counters`
    deletes those whose window has ended."""

    key = models.CharField(max_length=64, primary_key=True, help_text="<scope>:<hash of the identity>")
    window_index = models.BigIntegerField(help_text="Seconds since the epoch, divided by the period.")
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True, help_text="The end of the window.")

    class Meta:
        # Made when the platform app held this model; kept, so no data moves.
        db_table = "focusflow_throttlecounter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
