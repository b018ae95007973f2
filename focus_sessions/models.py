import math
import unicodedata
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Cast, Coalesce, Length, Lower
from django.db.models.lookups import LessThanOrEqual
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
# Tags: a name of 1-50 characters (trimmed), unique per user among tags not deleted, compared
# case-folded; at most this many on one session.
TAG_NAME_MAX_LENGTH = 50
TAG_NAME_UNIQUE = "tag_name_unique_per_user_ci"
TAG_NAME_FOLD_UNIQUE = "tag_name_fold_unique_per_user"
TAG_CLIENT_ID_UNIQUE = "tag_client_id_unique_per_user"
SESSION_MAX_TAGS = 10
# Goals: one per (user, tag or none, period).
GOAL_UNIQUE = "goal_one_per_tag_and_period"
GOAL_CLIENT_ID_UNIQUE = "goal_client_id_unique_per_user"


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
    # The session's tags, sorted ids: the read copy of its `SessionTag` rows (which hold the
    # database's guarantees), written with them by `focus_sessions.tagging`, so a session is
    # shown, synced and counted without a join.
    tag_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)

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
    # Of those, the sessions without a tag (`by_tag`'s `tag: null` entry).
    untagged_sessions = models.PositiveIntegerField(default=0)
    untagged_focus_seconds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="focus_day_unique_per_user"),
            models.CheckConstraint(
                condition=Q(sessions__gt=0, focus_seconds__gte=0), name="focus_day_counts"
            ),
            models.CheckConstraint(
                condition=Q(
                    untagged_sessions__lte=F("sessions"),
                    untagged_focus_seconds__gte=0,
                    untagged_focus_seconds__lte=F("focus_seconds"),
                ),
                name="focus_day_untagged_within_day",
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


class Synced(models.Model):
    """What a user's object that devices keep a copy of carries: its `version` (the ETag of
    `If-Match`), the device's `client_id` and what the request that made it said
    (`client_fingerprint`, to tell a retry from a clash), and `sync_seq`, the user's change
    number of its latest change (`focusflow.sync.feed`)."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    client_fingerprint = models.CharField(max_length=64, blank=True, default="", editable=False)
    sync_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        abstract = True


class Tag(Synced):
    """What a user focuses on ("Thesis", "Spanish"). Per user; the name is unique among the
    user's tags, archived ones included, compared case-folded (`name_fold`, a unique index):
    two devices that made the same tag offline meet the database's refusal, a 409 with the
    tag that exists. Deleting or merging a tag deletes the row (a tombstone for the sync feed,
    and a `DeletedTag` so a late upload naming it is understood)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=TAG_NAME_MAX_LENGTH)
    # The name as the list orders it. It was the uniqueness key until migration 0009; its
    # unique constraint stays for the release before it (which knows no `name_fold`) and goes,
    # with this column's key role, in a later release.
    name_key = models.GeneratedField(
        expression=Lower("name"),
        output_field=models.CharField(max_length=TAG_NAME_MAX_LENGTH),
        db_persist=True,
    )
    # `tag_name_fold(name)`, kept by `save()`: Unicode caseless matching, which PostgreSQL's
    # lower() is not (ß, final sigma, and nothing beyond ASCII under a "C" locale). Null only on
    # a row the release before 0009 wrote, until a later release backfills it.
    name_fold = models.TextField(null=True, editable=False)  # noqa: DJ001
    # Null, not "": the contract says a tag without a colour has `color: null`.
    color = models.CharField(max_length=7, null=True, blank=True)  # noqa: DJ001
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ("name_key", "id")
        indexes = [models.Index(fields=["user", "sync_seq"], name="tag_sync_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "name_fold"], name=TAG_NAME_FOLD_UNIQUE),
            # Also the index of the list, by name case-insensitively.
            models.UniqueConstraint(fields=["user", "name_key"], name=TAG_NAME_UNIQUE),
            models.UniqueConstraint(fields=["user", "client_id"], name=TAG_CLIENT_ID_UNIQUE),
            # Target of the (tag, user) foreign keys of session tags and goals.
            models.UniqueConstraint(fields=["id", "user"], name="tag_id_user_unique"),
            models.CheckConstraint(
                condition=Q(name__regex=r"^\S(.*\S)?$")
                & LessThanOrEqual(Length("name"), TAG_NAME_MAX_LENGTH),
                name="tag_name_trimmed_1_to_50",
            ),
            models.CheckConstraint(
                condition=Q(color__isnull=True) | Q(color__regex=r"^#[0-9a-f]{6}$"), name="tag_color_rrggbb"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (archived)" if self.archived else self.name

    def save(self, *args, **kwargs) -> None:
        self.name_fold = tag_name_fold(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_fold"}
        super().save(*args, **kwargs)


def tag_name_fold(name: str) -> str:
    """What two tag names are compared by: Unicode's canonical caseless match,
    NFD(casefold(NFD(name))), stored in NFC (an "é" typed as one character or as "e" and an
    accent, "Straße" and "STRASSE", "ΣΑΣ" and "σας" are one name each)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


class DeletedTag(models.Model):
    """The id of a tag the user deleted (or merged away), kept for good: a session upload that
    still names it (a device that did not know yet) drops it silently, or gets the tag it was
    merged into, while an id that never was the user's is a 400."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tag_id = models.BigIntegerField()
    # The live tag it was merged into, if any: a late upload naming it gets that tag instead.
    # Kept pointing at a live tag (or null) by every later delete and merge.
    merged_into = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag_id"], name="deleted_tag_once")]

    def __str__(self) -> str:
        return f"tag {self.tag_id}"


class SessionTag(models.Model):
    """A tag on a session. The database holds that both are the same user's (composite
    foreign keys, migration 0008) and that the tag exists: a tag deleted or merged away by
    another device can never stay on a session, whatever commits first."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The database deletes these rows with their session or tag (ON DELETE CASCADE on the
    # composite keys of migration 0008): deleting a session costs no query to collect them.
    session = models.ForeignKey(FocusSession, on_delete=models.DO_NOTHING, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["tag", "session"], name="session_tag_by_tag_idx")]
        constraints = [models.UniqueConstraint(fields=["session", "tag"], name="session_tag_once")]

    def __str__(self) -> str:
        return f"session {self.session_id}: tag {self.tag_id}"


class FocusDayTag(models.Model):
    """The completed sessions of one local day that carry one tag: the per-tag side of
    `FocusDay`, kept by the same writes (`focus_sessions.rollup`). A session with two tags
    counts under both."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, related_name="+")  # the database cascades
    sessions = models.PositiveIntegerField()
    focus_seconds = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tag", "date"], name="focus_day_tag_by_tag_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "date", "tag"], name="focus_day_tag_unique"),
            models.CheckConstraint(
                condition=Q(sessions__gt=0, focus_seconds__gte=0), name="focus_day_tag_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}, tag {self.tag_id}: {self.sessions} session(s), {self.focus_seconds} s"


class Goal(Synced):
    """How much focus a user sets out to do per day or per week (Monday to Sunday in their
    zone), on one tag or on everything (`tag` null). One per (user, tag, period), null tag
    included (NULLS NOT DISTINCT). The goal with no tag and period `day` is the profile's
    `daily_goal_minutes`, kept in step both ways (`focus_sessions.goals`)."""

    class Period(models.TextChoices):
        DAY = "day", "day"
        WEEK = "week", "week"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # A tag with goals cannot be deleted (the database refuses): a tag's delete or merge deletes
    # or moves its goals first, each with its tombstone or change number.
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+")
    period = models.CharField(max_length=4, choices=Period.choices)
    target_minutes = models.PositiveIntegerField()

    # The most a period can hold: a whole day, a whole week.
    MAX_MINUTES = {Period.DAY: 24 * 60, Period.WEEK: 7 * 24 * 60}

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "sync_seq"], name="goal_sync_idx"),
            models.Index(F("user"), F("created_at").desc(), F("id").desc(), name="goal_list_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "tag", "period"], nulls_distinct=False, name=GOAL_UNIQUE),
            models.UniqueConstraint(fields=["user", "client_id"], name=GOAL_CLIENT_ID_UNIQUE),
            models.CheckConstraint(
                condition=Q(period="day", target_minutes__gte=1, target_minutes__lte=24 * 60)
                | Q(period="week", target_minutes__gte=1, target_minutes__lte=7 * 24 * 60),
                name="goal_target_within_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_minutes} min a {self.period}" + (f", tag {self.tag_id}" if self.tag_id else "")

    @property
    def is_daily_goal(self) -> bool:
        """The profile's `daily_goal_minutes` in its richer form."""
        return self.tag_id is None and self.period == Goal.Period.DAY
