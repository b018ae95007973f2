from rest_framework import serializers

from focusflow.api.fields import ClientIdField, instant
from focusflow.api.query_params import LocalDateRangeQuerySerializer, QueryIntegerField
from journals.models import CONTENT_MAX_LENGTH, Journal


class JournalSerializer(serializers.ModelSerializer):
    """A journal as clients see it; the representation is written out by hand for speed, and
    tests pin it equal to DRF's own."""

    editable = serializers.BooleanField(read_only=True, help_text="False when tied to a session.")
    session = serializers.IntegerField(source="session_id", read_only=True, allow_null=True)

    class Meta:
        model = Journal
        fields = ["id", "content", "session", "editable", "created_at", "updated_at", "version", "client_id"]
        read_only_fields = fields

    def to_representation(self, journal: Journal) -> dict:
        return {
            "id": journal.pk,
            "content": journal.content,
            "session": journal.session_id,
            "editable": journal.editable,
            "created_at": instant(journal.created_at),
            "updated_at": instant(journal.updated_at),
            "version": journal.version,
            "client_id": str(journal.client_id) if journal.client_id is not None else None,
        }


def content_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=CONTENT_MAX_LENGTH,
        help_text=f"Not blank, at most {CONTENT_MAX_LENGTH:,} characters; surrounding whitespace is trimmed.",
        **kwargs,
    )


class JournalCreateSerializer(serializers.Serializer):
    content = content_field()
    session = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="One of your sessions' id, or null."
    )
    client_id = ClientIdField(
        help_text="A UUID the device made when the user wrote it, unique per user: sending it again "
        "with the same fields returns the stored journal (200) and changes nothing; with other "
        "fields, a 409 `client_id_conflict`.",
    )


class JournalUpdateSerializer(serializers.Serializer):
    """`session` is fixed at creation: sending a different one is a 400; user, ids and
    timestamps are not the client's to set and are ignored."""

    content = content_field()
    session = serializers.IntegerField(required=False, allow_null=True)

    def validate_session(self, value):
        if value != self.instance.session_id:
            raise serializers.ValidationError("The session of a journal cannot be changed after creation.")
        return value


class JournalListQuerySerializer(LocalDateRangeQuerySerializer):
    session = QueryIntegerField(required=False, min_value=1, help_text="Only journals of this session.")
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Words in the content (stemmed, English); empty means no search.",
    )


class JournalWebhookSerializer(serializers.ModelSerializer):
    """A journal in a webhook's event: never its text (a `journals:read` token fetches it)."""

    session = serializers.IntegerField(source="session_id", read_only=True, allow_null=True)

    class Meta:
        model = Journal
        fields = ["id", "session", "created_at", "updated_at"]
        read_only_fields = fields
