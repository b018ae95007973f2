from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan, LessThanOrEqual

CONTENT_MAX_LENGTH = 20_000


class Journal(models.Model):
    """A reflection, written freely or about one of the author's sessions.

    A journal tied to a session is final: no edit, no delete (services and admin refuse).
    Deleting the session is refused too (RESTRICT), so a tied journal never silently turns
    into a free, editable one; deleting the account takes both. On PostgreSQL the database
    also holds that the session belongs to the journal's author (a composite foreign key,
    added in migration 0002) and indexes the content for full-text search.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="journals")
    content = models.TextField()
    session = models.ForeignKey(
        "focus_sessions.FocusSession",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="journals",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                models.F("user"),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="journal_list_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThan(Length("content"), 0)
                & LessThanOrEqual(Length("content"), CONTENT_MAX_LENGTH),
                name="journal_content_1_to_20000_chars",
            ),
        ]

    def __str__(self) -> str:
        return f"Journal {self.pk} by {self.user_id}"

    @property
    def editable(self) -> bool:
        return self.session_id is None
