"""Client ids: the UUID a device gives an object it makes offline, before the server has seen
it, so that a retried upload finds the object it made instead of making it again, and never
brings back one the user deleted (`SpentClientId`)."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Model, QuerySet
from rest_framework import status
from rest_framework.fields import Field
from rest_framework.serializers import Serializer

from focusflow.api.exceptions import DomainError
from focusflow.sync.models import SpentClientId


class ClientIdConflict(DomainError):
    """A `client_id` that already names an object made by a different request."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This client_id already names an object with other fields; it is under `existing`."
    default_code = "client_id_conflict"

    def __init__(self, *, existing: Model, serializer: type[Serializer]) -> None:
        super().__init__()
        self.existing, self.serializer = existing, serializer

    @property
    def data_fields(self) -> dict[str, Any]:
        return {"existing": self.serializer(self.existing).data}

    @classmethod
    def data_schema(cls, serializer: type[Serializer] | None = None) -> dict[str, Field]:
        assert serializer, "Declare it with the serializer of its object: Carrying(ClientIdConflict, ...)"
        return {"existing": serializer(help_text="The object this client_id already names.")}


class ClientIdDeleted(DomainError):
    """A `client_id` whose object the user deleted: spent for good."""

    status_code = status.HTTP_410_GONE
    default_detail = (
        "This client_id named an object that has since been deleted; it is not made again. "
        "Drop the local copy."
    )
    default_code = "client_id_deleted"


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
    objects: QuerySet,
    *,
    user,
    kind: str,
    client_id: UUID | None,
    fingerprint: str,
    serializer: type[Serializer],
) -> Model | None:
    """The object a device already made with this client id, when this request is a retry of
    the one that made it (same fields); ClientIdConflict (409, with it under `existing`) when it
    made it with other fields; ClientIdDeleted (410) when the user has deleted it; None when the
    id is new. `objects` is the user's own rows of `kind`. Call it under the user's row lock
    (`focusflow.sync.feed.sync_seq_next`), which deletions take too."""
    if client_id is None:
        return None
    existing = objects.filter(client_id=client_id).first()
    if existing is None:
        if SpentClientId.objects.filter(user=user, kind=kind, client_id=client_id).exists():
            raise ClientIdDeleted()
        return None
    if existing.client_fingerprint != fingerprint:
        raise ClientIdConflict(existing=existing, serializer=serializer)
    return existing


def client_id_retried(objects: QuerySet, **kwargs) -> Model | None:
    """`client_id_replay` for a create service: when the request is a retry, the transaction
    that numbered it is rolled back too, so a retry changes nothing, not even the counter."""
    existing = client_id_replay(objects, **kwargs)
    if existing is not None:
        transaction.set_rollback(True)
    return existing
