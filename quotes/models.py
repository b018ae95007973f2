from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.timezone import now

# PostgreSQL's btree index holds at most ~2700 bytes per row; the unique index on text +
# author must fit even when every character takes 4 bytes in UTF-8 (4 * (500 + 150) = 2600).
TEXT_MAX_LENGTH = 500
AUTHOR_MAX_LENGTH = 150


def normalize_author(author: str | None) -> str | None:
    """Surrounding whitespace goes; a blank author is no author (None), never ""."""
    if author is None:
        return None
    return author.strip() or None


class Quote(models.Model):
    """A quote that can be the quote of the day. Retire it (is_active off) rather than delete
    it: a quote that has been served is kept for the day-by-day record."""

    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    # The contract shows an unknown author as null, so NULL is the one "no author" value;
    # the check constraint below keeps "" out.
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, null=True, blank=True)  # noqa: DJ001
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Retired quotes (off) are never picked for a new day; days that showed them keep them.",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # NULLs are distinct in a plain unique constraint, so two anonymous copies of one
            # text would both fit; comparing the author as "" when NULL closes that gap.
            models.UniqueConstraint(
                F("text"),
                Coalesce("author", Value("")),
                name="quote_text_author_unique",
                violation_error_message="A quote with this text and author already exists.",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="quote_text_not_blank"),
            models.CheckConstraint(
                condition=Q(author__isnull=True) | ~Q(author=""), name="quote_author_null_not_blank"
            ),
        ]

    def __str__(self) -> str:
        excerpt = self.text if len(self.text) <= 60 else self.text[:59] + "…"
        return f"{excerpt} — {self.author}" if self.author else excerpt

    def save(self, *args, **kwargs):
        self.text = self.text.strip()
        self.author = normalize_author(self.author)
        super().save(*args, **kwargs)


class DailyQuote(models.Model):
    """Which quote was the quote of the day on a date. Written once, on the day's first
    request; the unique date makes the database the judge when app servers race, and a
    served day never changes afterwards.

    `cycle` counts rounds through the quotes: within one cycle a quote is shown at most once
    (a constraint too), and a new cycle starts when every active quote has been shown.
    """

    date = models.DateField(unique=True)
    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="days")
    cycle = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "quote"], name="daily_quote_once_per_cycle"),
            models.CheckConstraint(condition=Q(cycle__gte=1), name="daily_quote_cycle_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.quote}"
