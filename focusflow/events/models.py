from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class EventTicket(models.Model):
    """A single-use ticket for `GET /api/events/?ticket=` (a browser's EventSource cannot send
    an Authorization header), bought with an access token and speaking for its login, or with a
    personal access token and speaking for it, with its scopes: it is refused once that login
    or token ends, or the token expires. Only a hash of it is stored."""

    digest = models.CharField(primary_key=True, max_length=64, help_text="SHA-256 of the ticket, hex.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="The login (token family) that bought it, if one did.",
    )
    token_version = models.CharField(
        max_length=64, blank=True, default="", help_text="The `tv` claim of the access token that bought it."
    )
    personal_token = models.ForeignKey(
        "users.PersonalAccessToken",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The personal access token that bought it, if one did.",
    )
    scopes = ArrayField(
        models.CharField(max_length=32), null=True, blank=True, help_text="That token's scopes."
    )
    token_expires_at = models.DateTimeField(
        help_text="When the token that bought it expires; so does its stream."
    )
    expires_at = models.DateTimeField(db_index=True, help_text="Unused after this, it is refused.")

    def __str__(self) -> str:
        return f"events ticket of user {self.user_id}, expires {self.expires_at:%Y-%m-%d %H:%M:%S}"
