"""Conditional requests on objects that carry a `version`: the ETag of one object, and the
`If-Match` check before a write."""

import re

from django.db.models import Model
from django.utils.http import parse_etags
from rest_framework.serializers import Serializer

from focusflow.api.exceptions import VersionConflict

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
