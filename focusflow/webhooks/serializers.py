from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from focusflow.api.fields import FlatListField
from focusflow.api.schema import EnumField
from focusflow.webhooks.models import Webhook, WebhookDelivery
from focusflow.webhooks.services import EVENTS, REFUSED_URL
from focusflow.webhooks.transport import URL_MAX_LENGTH

EVENTS_HELP = (
    "The events it is told of (at least one; `ping` is always sent and cannot be named; no "
    "wildcards; each once): " + ", ".join(f"`{event}`" for event in EVENTS) + "."
)
URL_HELP = (
    "Where deliveries are POSTed: `https://` to a host whose every address is public. Redirects "
    "are never followed."
)


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=EnumField(values=EVENTS), help_text=EVENTS_HELP)
    status = EnumField(
        values=Webhook.Status.values,
        help_text="`pending` until validated (its ping answered with the code, or the code sent to "
        "`validate/`); only `active` webhooks get events.",
    )
    disabled_reason = serializers.SerializerMethodField(
        help_text="Why it is disabled: `gone` (its receiver answered 410), `failing` (3 days of "
        "failed deliveries), `password_reset`, `owner`; null unless disabled."
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "description", "status", "disabled_reason", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Webhook.Disabled.values, allow_null=True))
    def get_disabled_reason(self, webhook: Webhook) -> str | None:
        return webhook.disabled_reason or None


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="`whsec_` and the base64 of 32 random bytes: verify deliveries with it (Standard "
        "Webhooks). Shown this once."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _events_field(**kwargs) -> FlatListField:
    return FlatListField(
        child=serializers.ChoiceField(choices=EVENTS),
        allow_empty=False,
        max_length=50,
        help_text=EVENTS_HELP,
        **kwargs,
    )


class WebhookUrlField(serializers.CharField):
    """Any URL refused, for whatever reason, gets the one message (a refusal tells nothing of
    which address a host has)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=URL_MAX_LENGTH, trim_whitespace=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError:
            if data is serializers.empty or data is None:
                raise
            raise serializers.ValidationError(REFUSED_URL) from None


class _WebhookInput(serializers.Serializer):
    def validate_events(self, events: list[str]) -> list[str]:
        return [event for event in EVENTS if event in set(events)]

    def validate_description(self, value: str) -> str:
        if not value.isprintable():
            raise serializers.ValidationError("Use printable characters only.")
        return value


class WebhookCreateSerializer(_WebhookInput):
    url = WebhookUrlField(help_text=URL_HELP)
    events = _events_field()
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class WebhookUpdateSerializer(_WebhookInput):
    url = WebhookUrlField(required=False, help_text=URL_HELP + " A new URL makes it pending and pings it.")
    events = _events_field(required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=[Webhook.Status.ACTIVE, Webhook.Status.DISABLED],
        required=False,
        help_text="`active` re-enables a webhook validated at its current URL; `disabled` disables it.",
    )


class ValidateSerializer(serializers.Serializer):
    validation_code = serializers.CharField(
        max_length=200, help_text="The `validation_code` of its latest ping."
    )


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="The new secret, shown this once. For 24 hours deliveries carry both signatures."
    )


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(
        source="message_id", help_text="The `webhook-id` header: the same on every attempt of one event."
    )
    type = serializers.CharField(
        source="message.type", help_text="The event (`ping`, `session.started`, ...)."
    )
    error = serializers.SerializerMethodField(
        help_text="`timeout`, `connect_failed`, `tls_failed`, `refused_address`, `http_status`; null: a 2xx."
    )
    response_excerpt = serializers.CharField(
        help_text="The start of the receiver's answer (at most 500 characters)."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "attempt",
            "status_code",
            "duration_ms",
            "error",
            "response_excerpt",
            "delivered_at",
            "next_attempt_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=WebhookDelivery.Error.values, allow_null=True))
    def get_error(self, delivery: WebhookDelivery) -> str | None:
        return delivery.error or None
