"""What every object the devices keep a copy of shares: a version for conditional writes, and
the client id a device gave it before the server had seen it."""

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db.models import Model, QuerySet
from django.utils.http import parse_etags
from rest_framework.serializers import Serializer

from focusflow.errors import ClientIdConflict, VersionConflict

_BARE_VERSION = re.compile(r"^\s*\d+\s*$")


def etag(obj: Model) -> str:
    """The object's version as an entity tag: `"3"`."""
    return f'"{obj.version}"'


def if_match_check(obj: Model, header: str | None, *, serializer: type[Serializer]) -> None:
    """Without `If-Match` a write applies (last writer wins). With it, the write applies only
    while the object is at one of the versions named (`"3"`; `W/"3"` and a bare `3` are read
    the same way; `*` is any): else VersionConflict, a 412 carrying the current object."""
    if header is None:
        return
    if _BARE_VERSION.match(header):
        header = f'"{header.strip()}"'
    tags = parse_etags(header)
    if "*" in tags or etag(obj) in {tag.removeprefix("W/") for tag in tags}:
        return
    raise VersionConflict(current=obj, serializer=serializer)


def _plain(value: Any) -> str:
    if isinstance(value, datetime):  # one instant, whatever offset it was written with
        return value.astimezone(UTC).isoformat()
    return str(value)


def client_fingerprint(action: str, fields: dict[str, Any]) -> str:
    """What a create request said, in a form two sendings of it share whatever their key order
    or spelling of an instant: the action and its validated fields."""
    body = json.dumps({"action": action, **fields}, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def client_id_replay(
    objects: QuerySet, *, client_id: UUID | None, fingerprint: str, serializer: type[Serializer]
) -> Model | None:
    """The object a device already made with this client id, when this request is a retry of
    the one that made it (same fields); ClientIdConflict (409, with it under `existing`) when it
    made it with other fields; None when the id is new. `objects` is the caller's own rows."""
    if client_id is None:
        return None
    existing = objects.filter(client_id=client_id).first()
    if existing is not None and existing.client_fingerprint != fingerprint:
        raise ClientIdConflict(existing=existing, serializer=serializer)
    return existing
