from django.conf import settings
from django.db import models


class EventTicket(models.Model):
    """A single-use ticket for `GET /api/events/?ticket=` (a browser's EventSource cannot send
    an Authorization header), bought with an access token and speaking for its login: it is
    refused once that login ends or the token expires. Only a hash of it is stored."""

    digest = models.CharField(primary_key=True, max_length=64, help_text="SHA-256 of the ticket, hex.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=255, help_text="The login (token family) that bought it.")
    token_version = models.CharField(max_length=64, help_text="The `tv` claim of the token that bought it.")
    token_expires_at = models.DateTimeField(
        help_text="When the token that bought it expires; so does its stream."
    )
    expires_at = models.DateTimeField(db_index=True, help_text="Unused after this, it is refused.")

    def __str__(self) -> str:
        return f"events ticket of user {self.user_id}, expires {self.expires_at:%Y-%m-%d %H:%M:%S}"
