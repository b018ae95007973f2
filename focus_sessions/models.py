import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q


class FocusSession(models.Model):
    """A focused work block. Timestamps come from the server clock; the app draws the timer.

    Invariants held by the database: one active session per user, an active session has no
    end and a stopped one has, end is not before start, only an active session can be paused,
    and a stopped session's focus time is frozen in `focus_seconds`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="focus_sessions"
    )
    start_time = models.DateTimeField()
    end_time = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Start of the pause in progress, if any; closed pauses add up in paused_duration.
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_duration = models.DurationField(default=timedelta(0))
    # Whole seconds of focus, frozen when the session stops (stats sum it in the database).
    focus_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    planned_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    label = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ("-start_time", "-id")
        indexes = [
            models.Index(F("user"), F("start_time").desc(), F("id").desc(), name="session_history_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_active=True), name="one_active_session_per_user"
            ),
            # Target of journals' (session, user) foreign key: a journal's session must be
            # one of its author's own.
            models.UniqueConstraint(fields=["id", "user"], name="session_id_user_unique"),
            models.CheckConstraint(
                condition=Q(is_active=True, end_time__isnull=True, focus_seconds__isnull=True)
                | Q(is_active=False, end_time__isnull=False, focus_seconds__isnull=False),
                name="session_active_iff_not_ended",
            ),
            models.CheckConstraint(
                condition=Q(end_time__isnull=True) | Q(end_time__gte=F("start_time")),
                name="session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(is_active=True, paused_at__gte=F("start_time")),
                name="session_paused_only_while_active",
            ),
            models.CheckConstraint(
                condition=Q(paused_duration__gte=timedelta(0)), name="session_paused_duration_positive"
            ),
            models.CheckConstraint(
                condition=Q(planned_minutes__isnull=True)
                | Q(planned_minutes__gte=1, planned_minutes__lte=720),
                name="session_planned_minutes_1_to_720",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} of {self.user_id} from {self.start_time:%Y-%m-%d %H:%M}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def paused_total(self, *, now: datetime) -> timedelta:
        """Closed pauses plus the one in progress, up to `now`."""
        ongoing = now - self.paused_at if self.paused_at is not None else timedelta(0)
        return self.paused_duration + max(ongoing, timedelta(0))

    def focus_duration_seconds(self, *, now: datetime) -> int:
        """Whole seconds of focus: (end, or now while active) minus start minus pauses."""
        if self.focus_seconds is not None:
            return self.focus_seconds
        end = self.end_time or now
        focus = end - self.start_time - self.paused_total(now=end)
        return max(0, math.floor(focus.total_seconds()))
