"""The data export as a stream: memory stays flat whatever the size of the account.

Rows are read with a server-side cursor and serialized a batch at a time inside the snapshot
transaction of `user_export_snapshot`; the document is one JSON object,
`{"exported_at", "user", "<section>": [...], ...}`.
"""

import json
from collections.abc import Iterator
from itertools import islice

from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from users.export_sections import export_sections
from users.models import User
from users.selectors import user_export_snapshot
from users.serializers import UserSerializer

BATCH_ROWS = 500


def _json(data) -> bytes:
    return json.dumps(data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


def export_chunks(*, user: User) -> Iterator[bytes]:
    with user_export_snapshot(user=user) as export:
        stamp = serializers.DateTimeField().to_representation(export.exported_at)
        yield b'{"exported_at":' + _json(stamp) + b',"user":' + _json(UserSerializer(export.user).data)
        context = {"now": export.exported_at}  # one clock for every running duration
        for section, rows in export.sections:
            yield b"," + _json(section.name) + b":["
            separator = b""
            for batch in _batches(rows.iterator(chunk_size=BATCH_ROWS), BATCH_ROWS):
                data = section.serializer(batch, many=True, context=context).data
                yield separator + b",".join(_json(item) for item in data)
                separator = b","
            yield b"]"
        yield b"}"


class ExportSerializer(serializers.Serializer):
    """The export document, for the schema: one list per registered section."""

    exported_at = serializers.DateTimeField()
    user = UserSerializer()

    def get_fields(self):
        fields = super().get_fields()
        for section in export_sections():
            fields[section.name] = section.serializer(many=True)
        return fields
