"""Conditional requests on objects that carry a `version` (RFC 9110, section 13): the ETag of
one object, `If-Match` before any method acts on it, `If-None-Match` on a read.

`If-Match` is compared the same way on every method, strongly: `"3"` matches version 3, `*`
any object that exists, a list when one of its tags matches. A weak tag (`W/"3"`), a bare
`3`, garbage or a stale version never match, and the answer is always the JSON 412
`version_conflict` carrying the current object (never Django's empty conditional response)."""

from django.db.models import Model
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from focusflow.api.exceptions import VersionConflict


def etag(obj: Model) -> str:
    """The object's version as a strong entity tag: `"3"`."""
    return f'"{obj.version}"'


def if_match_check(obj: Model, header: str | None, *, serializer: type[Serializer]) -> None:
    """Without `If-Match` the request applies (for a write, the last writer wins). With it,
    only while the object is at one of the versions named: else VersionConflict, a 412
    carrying the current object. `parse_etags` drops what is not an entity tag, so garbage
    names no version."""
    if header is None:
        return
    tags = parse_etags(header)
    if tags == ["*"] or etag(obj) in tags:  # strong comparison: `W/"3"` is not `"3"`
        return
    raise VersionConflict(current=obj, serializer=serializer)


def not_modified(obj: Model, request, *, serializer: type[Serializer]) -> Response | None:
    """The preconditions of a GET of one object, in RFC 9110's order: `If-Match` (a 412 as
    for a write), then `If-None-Match`, compared weakly as a cache compares it. The 304 when
    the client's copy is current, else None: the view answers with the object."""
    if_match_check(obj, request.headers.get("If-Match"), serializer=serializer)
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    tags = parse_etags(header)
    if tags == ["*"] or etag(obj) in {tag.removeprefix("W/") for tag in tags}:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag(obj)})
    return None
