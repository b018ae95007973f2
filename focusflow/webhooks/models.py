from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.timezone import now


class Webhook(models.Model):
    """An address an integration is told at, by signed POSTs, when something happens to its
    owner's sessions or journals (focusflow.webhooks.services)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending (not validated yet)"
        ACTIVE = "active", "active"
        DISABLED = "disabled", "disabled"

    class Disabled(models.TextChoices):
        GONE = "gone", "the receiver answered 410 Gone"
        FAILING = "failing", "every delivery failed for 3 days"
        PASSWORD_RESET = "password_reset", "the account's password was reset"
        OWNER = "owner", "disabled by its owner"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    events = ArrayField(models.CharField(max_length=32))
    description = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    disabled_reason = models.CharField(max_length=16, choices=Disabled.choices, blank=True, default="")
    # The signing secrets, encrypted with a server key (focusflow.webhooks.secrets); the
    # previous one signs too until `previous_secret_until` (a rotation's grace period).
    secret = models.TextField(editable=False)
    previous_secret = models.TextField(blank=True, default="", editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The current ping's validation code, as a keyed hash, and the wrong codes sent for it.
    validation_code_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    validation_tries = models.PositiveSmallIntegerField(default=0, editable=False)
    validated_url = models.CharField(
        max_length=2000, blank=True, default="", editable=False, help_text="The URL it was last validated at."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The first failed delivery since the last success."
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["user", "status"], name="webhook_user_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "active", "disabled"]), name="webhook_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="disabled", disabled_reason__in=["gone", "failing", "password_reset", "owner"]
                )
                | (~models.Q(status="disabled") & models.Q(disabled_reason="")),
                name="webhook_disabled_has_a_reason",
            ),
            models.CheckConstraint(condition=~models.Q(events=[]), name="webhook_has_events"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookMessage(models.Model):
    """One event for one webhook: the body every attempt sends, byte for byte, under one
    `webhook-id` (its primary key)."""

    class State(models.TextChoices):
        PENDING = "pending", "to be sent"
        DELIVERED = "delivered", "delivered"
        DROPPED = "dropped", "given up"

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="messages")
    type = models.CharField(max_length=32)
    payload = models.TextField(help_text="The JSON body, as signed.")
    created_at = models.DateTimeField(default=now, db_index=True)
    state = models.CharField(max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One attempt to deliver a message, as its owner sees it in the delivery log."""

    class Error(models.TextChoices):
        TIMEOUT = "timeout", "no answer in time"
        CONNECT_FAILED = "connect_failed", "could not connect"
        TLS_FAILED = "tls_failed", "TLS failed"
        REFUSED_ADDRESS = "refused_address", "the address is not public"
        HTTP_STATUS = "http_status", "not a 2xx answer"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=16, choices=Error.choices, blank=True, default="")
    response_excerpt = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(default=now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-delivered_at", "-id"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.message_id}"
