"""Shapes of `GET /api/sync/`: its query, its page, and a change of each registered kind."""

import functools

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from focusflow.api.query_params import QueryIntegerField
from focusflow.api.schema import EnumField
from focusflow.sync.feed import SyncKind, sync_kinds


class SyncQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="The `cursor` of the last answer; none (or empty) for a first, full sync.",
    )
    limit = QueryIntegerField(
        required=False, min_value=1, max_value=500, default=200, help_text="Changes per page, 1-500."
    )


class SyncChangeSerializer(serializers.Serializer):
    """One change: `{"type", "id", "deleted", "data"}`, `data` being the object as its own
    endpoint shows it, or null when deleted. In the schema, one component per registered kind
    (`SyncChangeExtension`), so a generated client knows `data`'s type from `type`."""

    type = serializers.CharField()
    id = serializers.IntegerField()
    deleted = serializers.BooleanField()
    data = serializers.JSONField(allow_null=True)


@functools.cache
def sync_kind_change_serializer(kind: SyncKind) -> type[serializers.Serializer]:
    """`SyncChangeSerializer` for one kind, for the schema."""
    name = "".join(word.capitalize() for word in kind.name.split("_"))
    fields = {
        "type": EnumField(values=[kind.name]),
        "id": serializers.IntegerField(),
        "deleted": serializers.BooleanField(),
        "data": kind.serializer(allow_null=True, help_text=f"The {kind.name}; null when deleted."),
    }
    return type(f"{name}ChangeSerializer", (serializers.Serializer,), {**fields, "__module__": __name__})


class SyncChangeExtension(OpenApiSerializerExtension):
    """A change is one of the kinds apps register in their ready(), so the schema asks
    `sync_kinds()` when it is generated, not when this module is imported."""

    target_class = SyncChangeSerializer

    def map_serializer(self, auto_schema, direction):
        refs = {
            kind.name: auto_schema.resolve_serializer(sync_kind_change_serializer(kind), direction).ref
            for kind in sync_kinds()
        }
        return {
            "oneOf": list(refs.values()),
            "discriminator": {
                "propertyName": "type",
                "mapping": {name: ref["$ref"] for name, ref in refs.items()},
            },
        }


@extend_schema_serializer(many=False)  # the `list` of a viewset, but one page, not an array
class SyncPageSerializer(serializers.Serializer):
    changes = SyncChangeSerializer(many=True, help_text="In the order the server committed them.")
    cursor = serializers.CharField(help_text="Opaque: send it back as `cursor` for the changes after these.")
    has_more = serializers.BooleanField(
        help_text="Fetch again with `cursor` at once: more changes are waiting."
    )
    server_now = serializers.DateTimeField()


SYNC_DESCRIPTION = (
    "Every change to the caller's sessions, journals, tags, goals and profile, one entry per object "
    "(its latest "
    "state), in the order the server committed them. Deletions come as `deleted: true`, kept at "
    f"least {settings.SYNC_TOMBSTONE_RETENTION.days} days. Apply every page in order until "
    "`has_more` is false: you then have every change committed before that last page was read, "
    "and its `cursor` picks up every change committed after, whichever device or app server made "
    "it. An entry may name an object that a later entry of the same sync brings (a journal's "
    "session changed after the journal). A sync without a cursor always completes, however long "
    "it pages. A 410 means the cursor may have missed a deletion the server no longer keeps (the "
    "device was away longer than that): sync again without a cursor and replace the local copy. "
    "With a personal access token, only the kinds its scopes may read: `profile` always; `session`, "
    "`tag` and `goal` with `sessions:read`; `journal` with `journals:read`."
)
