"""The change feed behind `GET /api/sync/`: every device of a user converges on the server's copy.

Why it never skips a change: each user has a change counter (`User.sync_seq`). A write takes
the next number with `UPDATE ... SET sync_seq = sync_seq + 1 RETURNING`, which locks the
user's row until the write's transaction ends, and stamps it on the object it changes (or on
a tombstone, or as `User.profile_seq`). The next write of that user waits for the lock, so
numbers are handed out in commit order: once number N is visible, every number before it is
committed and visible too. A global sequence or a timestamp would not do: a transaction can
take a number, then commit after a reader has already read past it.

A page lists the objects whose latest change number is above the cursor, in number order,
each once with its latest state. The cursor is the last number the page covered, signed so
clients cannot forge or edit it (it is never a client's clock). Deletions leave tombstones,
kept at least `SYNC_TOMBSTONE_RETENTION`; purging them raises the user's purge horizon
(`User.sync_purged_seq`). A cursor also carries where its chain began: the account's change
number when the device synced without a cursor. Every deletion numbered up to that was
committed before the device's first page was read, so the device never held those objects.
Only a cursor below the horizon on both counts may have missed a purged deletion: that one
answers 410, so the client starts again without one. A chain started now is never refused,
however far the horizon is above the numbers of its first pages.

Apps register what they sync (`register_sync_kind` in AppConfig.ready()), as with the export.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.serializers import Serializer

from focusflow.api.exceptions import AccountGone, DomainError
from focusflow.api.scopes import scope_allowed
from focusflow.db.rows import rows_of, values_of
from focusflow.sync.models import SpentClientId, Tombstone
from focusflow.sync.pokes import poke_changes

_CURSOR_SALT = "focusflow.sync.cursor"


class SyncCursorExpired(DomainError):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "This sync cursor may have missed deletions the server no longer keeps; sync again without a cursor."
    )
    default_code = "sync_cursor_expired"


@dataclass(frozen=True)
class SyncKind:
    """Something a user's devices keep a copy of: its rows, and how its endpoint shows one."""

    name: str
    model: type[Model]
    serializer: type[Serializer]
    owner_field: str = "user"  # the field that holds the owning user ("pk" for the user itself)
    seq_field: str = "sync_seq"
    # What a personal access token needs to see this kind (focusflow.api.scopes); None: any token.
    scope: str | None = None


_kinds: dict[str, SyncKind] = {}


def register_sync_kind(kind: SyncKind) -> None:
    _kinds[kind.name] = kind


def sync_kinds(*, scopes: frozenset[str] | None = None) -> list[SyncKind]:
    """The kinds a credential with `scopes` may read (focusflow.api.scopes); every kind for a
    login (None)."""
    return [
        _kinds[name]
        for name in sorted(_kinds)
        if _kinds[name].scope is None or scope_allowed(scopes, _kinds[name].scope)
    ]


# --- Writing ----------------------------------------------------------------------------------


def sync_seq_next(*, user, profile: bool = False, refresh: tuple[str, ...] = ()) -> int:
    """The user's next change number. Locks the user's row until the current transaction ends,
    so call it first in the transaction that makes the change (every write of one user then
    runs one at a time, in the order of their numbers); once it commits, the account's live
    streams are poked (focusflow.sync.pokes). `profile`: the change is to the profile itself,
    which then carries the number. `refresh`: fields of `user` to read again in the same
    statement, current as of the lock. AccountGone if the account was deleted meanwhile."""
    if not connection.in_atomic_block:
        raise RuntimeError("sync_seq_next must run inside the transaction that makes the change")
    # On the right of SET, columns have their old values: profile_seq gets the new number.
    row = _advance(user=user, by=1, also=", profile_seq = sync_seq + 1" if profile else "", refresh=refresh)
    for name, value in zip(refresh, row[1:], strict=True):
        setattr(user, name, value)
    poke_changes(user_id=user.pk, seq=row[0])
    return row[0]


def sync_seqs_take(*, user, count: int) -> int:
    """`count` more change numbers for one write that changes that many objects (a tag merge
    rewrites every session of the tag): returns the first; the others follow it. Call it after
    `sync_seq_next`, in the same transaction (the user's row lock is held)."""
    return _advance(user=user, by=count)[0] - count + 1


def _advance(*, user, by: int, also: str = "", refresh: tuple[str, ...] = ()) -> tuple:
    """Add `by` to the account's change counter: (the new counter, *`refresh`)."""
    table = connection.ops.quote_name(get_user_model()._meta.db_table)
    columns = "".join(f", {connection.ops.quote_name(name)}" for name in refresh)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET sync_seq = sync_seq + %s{also} WHERE id = %s RETURNING sync_seq{columns}",
            [by, user.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise AccountGone()
    return row


def tombstone_add(*, user, kind: str, object_id: int, seq: int, client_id: UUID | None = None) -> None:
    """Record a deletion for the feed, in the deleting transaction, with its change number;
    the object's client id, if it had one, is spent for good (focusflow.sync.client_ids)."""
    Tombstone.objects.create(user=user, kind=kind, object_id=object_id, sync_seq=seq)
    if client_id is not None:
        SpentClientId.objects.create(user=user, kind=kind, client_id=client_id)


def tombstones_purge(*, now: datetime | None = None) -> int:
    """Delete tombstones older than the retention and raise each user's purge horizon, in one
    transaction; returns how many went."""
    cutoff = (now or timezone.now()) - settings.SYNC_TOMBSTONE_RETENTION
    expired = Tombstone.objects.filter(deleted_at__lt=cutoff)
    User = get_user_model()
    with transaction.atomic():
        horizons = expired.values("user_id").annotate(seq=Max("sync_seq")).order_by()
        for horizon in horizons:
            User.objects.filter(pk=horizon["user_id"], sync_purged_seq__lt=horizon["seq"]).update(
                sync_purged_seq=horizon["seq"]
            )
        deleted, _ = expired.delete()
    return deleted


# --- The cursor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncCursor:
    seq: int  # the last change number the device has applied
    chain_start: int  # the account's change number when the device synced without a cursor

    def expired(self, *, purged_seq: int) -> bool:
        """Whether a deletion this device may not have seen has been purged: one numbered
        above both what it has applied and where its chain began."""
        return purged_seq > max(self.seq, self.chain_start)


def cursor_encode(*, user, cursor: SyncCursor) -> str:
    return signing.dumps({"u": user.pk, "s": cursor.seq, "c": cursor.chain_start}, salt=_CURSOR_SALT)


def cursor_decode(raw: str, *, user, purged_seq: int, latest: int) -> SyncCursor:
    """What a cursor stands for. A cursor that is not ours, or another user's, is a 400 on
    `cursor`; one that may have missed a purged deletion is a 410, and so is one ahead of the
    account's counter (the database was restored from a backup: numbers it hands out again
    would be skipped). Cursors made before chains were recorded count as begun at 0."""
    invalid = exceptions.ValidationError({"cursor": ["Invalid sync cursor; sync again without one."]})
    try:
        data = signing.loads(raw, salt=_CURSOR_SALT)
    except signing.BadSignature:
        raise invalid from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise invalid
    seq, chain_start = data.get("s"), data.get("c", 0)
    if type(seq) is not int or type(chain_start) is not int or seq < 0 or chain_start < 0:
        raise invalid
    cursor = SyncCursor(seq=seq, chain_start=chain_start)
    if cursor.expired(purged_seq=purged_seq) or max(seq, chain_start) > latest:
        raise SyncCursorExpired()
    return cursor


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    kind: str
    object_id: int
    seq: int
    deleted: bool
    data: dict | None  # the object as its endpoint shows it; None when deleted

    def entry(self) -> dict:
        """The change as `GET /api/sync/` and the events stream show it."""
        return {"type": self.kind, "id": self.object_id, "deleted": self.deleted, "data": self.data}


@dataclass(frozen=True)
class SyncPage:
    changes: list[Change]
    seq: int  # the change number the page's cursor stands for
    has_more: bool


def _changes_sql(kinds: list[SyncKind], *, every_kind: bool) -> str:
    """One statement for the page: the latest change of each live object, and the tombstones,
    above the cursor, in change-number order. Each branch takes its own first rows by its
    (owner, number) index before they are merged, so a page costs the same whatever the
    length of the history (a sort over the union would read all of it). Unless `every_kind`,
    only the tombstones of `kinds` (their names are one more parameter)."""
    quote = connection.ops.quote_name
    parts = []
    for kind in kinds:
        meta = kind.model._meta
        owner = meta.pk.column if kind.owner_field == "pk" else meta.get_field(kind.owner_field).column
        seq = quote(kind.seq_field)
        parts.append(
            f"SELECT * FROM (SELECT CAST(%s AS varchar(16)) AS kind, {quote(meta.pk.column)} AS object_id, "
            f"{seq} AS seq, 0 AS deleted FROM {quote(meta.db_table)} "
            f"WHERE {quote(owner)} = %s AND {seq} > %s ORDER BY {seq} LIMIT %s) AS {quote(kind.name)}"
        )
    parts.append(
        "SELECT * FROM (SELECT kind, object_id, sync_seq AS seq, 1 AS deleted "
        f"FROM {quote(Tombstone._meta.db_table)} WHERE user_id = %s AND sync_seq > %s "
        f"{'' if every_kind else 'AND kind = ANY(%s) '}ORDER BY sync_seq LIMIT %s) AS tombstones"
    )
    return " UNION ALL ".join(parts) + " ORDER BY seq LIMIT %s"


def _objects(kind: SyncKind, *, user, ids: list[int]) -> list[Model]:
    """The page's objects of one kind (focusflow.db.rows: a page holds up to 500, and the ORM
    costs about 1.9 ms more to load 200 sessions)."""
    return rows_of(kind.model, **{kind.owner_field: user.pk}, pk__in=ids)


def sync_position(*, user) -> tuple[int, int]:
    """(latest change number, purge horizon) of the account, read now."""
    row = values_of(get_user_model(), ("sync_seq", "sync_purged_seq"), pk=user.pk)
    if row is None:
        raise AccountGone()
    return row


@contextmanager
def _one_snapshot():
    """Every statement inside reads the database as of one moment (REPEATABLE READ, read
    only): an object changed between the page's list and the reading of the objects would
    otherwise show its newer state at its older place, and again later. Inside a caller's
    transaction (a test's), that transaction decides."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def sync_page(
    *, user, after: int, limit: int, latest: int, now: datetime, scopes: frozenset[str] | None = None
) -> SyncPage:
    """The changes above `after`: at most `limit`, oldest first, each with its entry as the
    feed shows it. `latest` is the account's change number read before (`sync_position`):
    when it is `after`, nothing changed and the page costs no further query. Otherwise one
    statement lists the page, one query per kind fetches the objects, and they are shown, all
    in one snapshot: each change appears once, at its place in commit order.

    `scopes`: those of a personal access token, which sees only the kinds they allow (None: a
    login, every kind). A page that ends the feed stands for everything up to `latest` (all of
    it was committed before the snapshot began), so a token's cursor moves past the changes
    it does not see and its next look costs nothing."""
    if latest <= after:
        return SyncPage(changes=[], seq=after, has_more=False)
    kinds = sync_kinds(scopes=scopes)
    every_kind = len(kinds) == len(_kinds)
    params: list = []
    for kind in kinds:
        params += [kind.name, user.pk, after, limit + 1]
    params += [user.pk, after, *([] if every_kind else [[kind.name for kind in kinds]]), limit + 1, limit + 1]
    with _one_snapshot():
        with connection.cursor() as cursor:
            cursor.execute(_changes_sql(kinds, every_kind=every_kind), params)
            rows = cursor.fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        found: dict[tuple[str, int], Model] = {}
        for kind in kinds:
            ids = [object_id for name, object_id, _, deleted in rows if name == kind.name and not deleted]
            if ids:
                found.update(((kind.name, obj.pk), obj) for obj in _objects(kind, user=user, ids=ids))
        shown = _shown(found, kinds=kinds, now=now)
    changes = []
    for name, object_id, seq, deleted in rows:
        key = (name, object_id)
        if not deleted and key not in found:
            continue  # cannot happen in one snapshot; a caller's READ COMMITTED transaction may
        changes.append(
            Change(kind=name, object_id=object_id, seq=seq, deleted=bool(deleted), data=shown.get(key))
        )
    seq = rows[-1][2] if rows else after
    return SyncPage(changes=changes, seq=seq if has_more else max(seq, latest), has_more=has_more)


def _shown(
    found: dict[tuple[str, int], Model], *, kinds: list[SyncKind], now: datetime
) -> dict[tuple[str, int], dict]:
    """Each kind's objects serialized together (its serializer's fields are built once), with
    one clock for every running duration on the page."""
    shown = {}
    for kind in kinds:
        objects = [obj for (name, _), obj in found.items() if name == kind.name]
        if objects:
            data = kind.serializer(objects, many=True, context={"now": now}).data
            shown.update(((kind.name, obj.pk), item) for obj, item in zip(objects, data, strict=True))
    return shown
