import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from focusflow.core.display import datetime_text

# A session's plan, in minutes: at most twelve hours.
PLANNED_MIN_MINUTES, PLANNED_MAX_MINUTES = 1, 12 * 60
# Times a device sends: at most this far ahead of the server's clock, and an action at most
# this late; a logged or corrected session lasts at most MAX_LENGTH.
MAX_AHEAD = timedelta(minutes=5)
MAX_LATE = timedelta(hours=24)
MAX_LENGTH = timedelta(hours=24)
LABEL_MAX_LENGTH = 100
# The partial unique index that allows one running session per user.
ONE_ACTIVE_SESSION = "one_active_session_per_user"
# The exclusion constraint: a user's sessions never overlap in time.
NO_OVERLAP = "session_no_overlap"
# The unique (user, client_id) pair: a device's own id for a session, made before the server saw it.
CLIENT_ID_UNIQUE = "session_client_id_unique_per_user"


class TsTzRange(Func):
    """PostgreSQL's `tstzrange(lower, upper, bounds)`."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class FocusSession(models.Model):
    """A focused work block. Timestamps come from the server clock, or from the device for an
    action sent late (`at`) and for a session logged afterwards; the app draws the timer.

    Invariants held by the database: one active session per user, a user's sessions never
    overlap (the running one extends to infinity; an exclusion constraint), an
    active session has no end and a stopped one has, end is not before start, only an active
    session can be paused, a stopped session's focus time is frozen in `focus_seconds`, and a
    client id names one session per user.

    `version` grows with every change (the ETag of `If-Match`); `sync_seq` is the user's change
    number of the latest change (`focusflow.sync.feed`).
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
        null=True,
        blank=True,
        validators=[MinValueValidator(PLANNED_MIN_MINUTES), MaxValueValidator(PLANNED_MAX_MINUTES)],
    )
    label = models.CharField(max_length=LABEL_MAX_LENGTH, blank=True, default="")
    # The latest of start, pause and resume: a late action may not come before it.
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    # What the request that created it said, to tell a retried upload from a clashing one.
    client_fingerprint = models.CharField(max_length=64, blank=True, default="", editable=False)
    sync_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ("-start_time", "-id")
        indexes = [
            models.Index(F("user"), F("start_time").desc(), F("id").desc(), name="session_history_idx"),
            models.Index(fields=["user", "sync_seq"], name="session_sync_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_active=True), name=ONE_ACTIVE_SESSION),
            models.UniqueConstraint(fields=["user", "client_id"], name=CLIENT_ID_UNIQUE),
            # [start, end) of one user's sessions never meet; a running session reaches to
            # infinity. btree_gist (migration 0004) lets the GiST index compare user ids.
            ExclusionConstraint(
                name=NO_OVERLAP,
                expressions=[
                    ("user", RangeOperators.EQUAL),
                    (
                        TsTzRange(
                            "start_time",
                            Coalesce("end_time", Cast(Value("infinity"), models.DateTimeField())),
                            RangeBoundary(),
                        ),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message="This session overlaps another session of the same user.",
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
                | Q(planned_minutes__gte=PLANNED_MIN_MINUTES, planned_minutes__lte=PLANNED_MAX_MINUTES),
                name="session_planned_minutes_1_to_720",
            ),
        ]

    def __str__(self) -> str:
        """`alice@example.com — 2026-11-20 10:00:00 CET, "Deep work"`: the owner and the start on
        the owner's clock when the owner was loaded with the session (the admin selects it),
        else the start alone, in UTC. Never a query of its own, so a page naming many sessions
        costs nothing per session."""
        if self.start_time is None:
            return "New session"
        if FocusSession.user.is_cached(self):
            name = f"{self.user.email} — {datetime_text(self.start_time, self.user.timezone)}"
        else:
            name = datetime_text(self.start_time)
        return f'{name}, "{self.label}"' if self.label else name

    @property
    def end_or_infinity(self) -> datetime:
        """Where the session's time range ends: a running one extends to infinity."""
        return self.end_time or datetime.max.replace(tzinfo=UTC)

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


class FocusDay(models.Model):
    """The completed sessions of one local day of a user (the day each started on, in the
    user's time zone): a rollup kept in the same transaction as every write that changes it
    (`focus_sessions.rollup`), so stats read a window of days, never the whole history. A day
    without sessions has no row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    sessions = models.PositiveIntegerField()
    focus_seconds = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="focus_day_unique_per_user"),
            models.CheckConstraint(
                condition=Q(sessions__gt=0, focus_seconds__gte=0), name="focus_day_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.sessions} session(s), {self.focus_seconds} s"


class FocusStreak(models.Model):
    """A streak: a run of consecutive local days that each have a completed session, from
    `first` to `last`. Kept with the rollup, so the longest and the current streak are one
    indexed row each, whatever the length of the history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first = models.DateField()
    last = models.DateField()
    days = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(F("user"), F("days").desc(), name="focus_streak_longest_idx"),
            models.Index(F("user"), F("last").desc(), name="focus_streak_latest_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "first"], name="focus_streak_first_unique"),
            models.CheckConstraint(condition=Q(last__gte=F("first")), name="focus_streak_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.first} to {self.last} ({self.days} days)"
