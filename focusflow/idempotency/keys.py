"""Safe retries: `Idempotency-Key` on POSTs that change state.

A phone that lost the answer to "start" can send the request again with the same key and get
the first answer back, byte for byte, without starting a second session. The same user and key
within IDEMPOTENCY_TTL replays the stored status and body; the same key with a different
request (method, path or body) is a 422. Keys are per user, so users never collide.

The record is claimed, the view run and its response stored in one transaction: a concurrent
request with the same key blocks on the unique (user, key) index until the first commits, then
replays its response. If the first fails with a 5xx, nothing is stored and a retry runs afresh.

Records keep whole response bodies, so what one user can make the store hold is capped
(MAX_RECORDS_PER_USER, MAX_BODY_CHARS_PER_USER): storing a new record drops that user's oldest
ones beyond either cap, whose replay window so ends early. An app retries within seconds or
minutes; only an account sending thousands of keys a day ever meets the caps.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum, Window
from django.db.models.functions import Length, RowNumber
from django.http import HttpResponse
from django.utils.timezone import now
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status

from focusflow.api.exceptions import DomainError
from focusflow.api.renderers import render_json
from focusflow.api.schema import SchemaAdditions
from focusflow.core.display import duration_text
from focusflow.idempotency.models import MAX_KEY_LENGTH, IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
# Per user: a journal's answer is at most ~20,000 characters, a session's a few hundred.
MAX_RECORDS_PER_USER = 1000
MAX_BODY_CHARS_PER_USER = 2_000_000

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"Any printable string of 1 to {MAX_KEY_LENGTH} characters (UTF-8). Retrying with the same key "
        f"within {duration_text(IDEMPOTENCY_TTL)} returns the first response again (same status and "
        "body, header `Idempotent-Replayed: true`) and changes nothing; the same key with a different "
        "body is a 422 `idempotency_key_reused`."
    ),
)


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


class InvalidIdempotencyKey(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable characters."
    default_code = "invalid_idempotency_key"


def request_fingerprint(request) -> str:
    """Method, path and body; key order and whitespace in the JSON do not matter."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _header_text(raw: str) -> str:
    """WSGI hands headers over as latin-1 (PEP 3333); clients send UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()


def _claim(*, user, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """The live record for (user, key), or a new placeholder owned by this request."""
    record = IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
    if record is not None and record.created_at <= now() - IDEMPOTENCY_TTL:
        record.delete()
        record = None
    if record is not None:
        return record, False
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, status_code=0
            )
        return record, True
    except IntegrityError:
        # A concurrent request with this key committed first; its response is stored now.
        return IdempotencyRecord.objects.get(user=user, key=key), False


def _drop_beyond_the_caps(*, user) -> None:
    """Delete `user`'s records beyond MAX_RECORDS_PER_USER, or beyond MAX_BODY_CHARS_PER_USER
    of bodies, newest kept first. One statement."""
    newest_first = [F("created_at").desc(), F("pk").desc()]
    beyond = (
        IdempotencyRecord.objects.filter(user=user)
        .annotate(
            rank=Window(RowNumber(), order_by=newest_first),
            held=Window(Sum(Length("response_body")), order_by=newest_first),
        )
        .filter(Q(rank__gt=MAX_RECORDS_PER_USER) | Q(held__gt=MAX_BODY_CHARS_PER_USER))
        .values("pk")
    )
    IdempotencyRecord.objects.filter(pk__in=beyond).delete()


def _as_http(status_code: int, body: str, *, replayed: bool) -> HttpResponse:
    response = HttpResponse(body, status=status_code, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view_method):
    """Decorate a view's POST handler (an APIView's `post`, a viewset's action) so that it
    honours `Idempotency-Key`. The schema documents the header and its errors for it."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return view_method(view, request, *args, **kwargs)
        key = _header_text(raw_key)
        if not _valid_key(key):
            raise InvalidIdempotencyKey()
        fingerprint = request_fingerprint(request)

        with transaction.atomic():
            record, created = _claim(user=request.user, key=key, fingerprint=fingerprint)
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return _as_http(record.status_code, record.response_body, replayed=True)

            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception as exc:  # errors are answers too, and are replayed
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                # Not an answer to this request but a failure around it: a retry runs afresh.
                transaction.set_rollback(True)
                return response
            body = "" if response.data is None else render_json(response.data).decode()
            record.status_code = response.status_code
            record.response_body = body
            record.save(update_fields=["status_code", "response_body"])
            _drop_beyond_the_caps(user=request.user)
        return _as_http(record.status_code, body, replayed=False)

    wrapper.schema_additions = SchemaAdditions(
        parameters=(IDEMPOTENCY_KEY_PARAMETER,), errors=(InvalidIdempotencyKey, IdempotencyKeyReused)
    )
    return wrapper


def idempotency_records_purge(*, older_than: timedelta = IDEMPOTENCY_TTL) -> int:
    """Delete records past their replay window; returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=now() - older_than).delete()
    return deleted
