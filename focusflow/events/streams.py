"""One stream: the sync feed of an account, pushed as Server-Sent Events.

    backlog   every change after the cursor, a page at a time (`event: change`, `id: <cursor>`)
    ready     `event: ready` once it is live
    live      woken by a poke (focusflow.events.hub) or a heartbeat, it reads the changes after
              what it sent, from the database, in one snapshot (focusflow.sync.feed)
    end       `event: end` when its credential expires or is revoked; `event: reset` when the
              cursor falls behind the purge horizon

The stream registers with the hub before it reads its backlog, so a change committed while
the backlog is read is either in it or pokes the stream afterwards: nothing falls between.
Every heartbeat the stream looks again whatever the pokes said (a comment line keeps proxies
from closing it) and checks its credential; its process renews its slot (focusflow.events.slots).

The database is read in a small pool of threads (the event loop's default executor), each
keeping its own connection: a thousand idle streams hold no connection and no thread of
their own while they wait.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from focusflow.api.exceptions import AccountGone
from focusflow.api.renderers import render_json
from focusflow.events.credentials import Credential
from focusflow.events.hub import hub
from focusflow.events.slots import stream_slot_release, stream_slot_started
from focusflow.sync.feed import SyncCursor, SyncPage, cursor_encode, sync_page, sync_position

logger = logging.getLogger(__name__)

PAGE = 200


def event(name: str, data, *, id: str | None = None) -> bytes:
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {name}\ndata: ".encode() + render_json(data) + b"\n\n"


HEARTBEAT = b": heartbeat\n\n"
RESET = {"detail": "Sync again without a cursor."}


@dataclass(frozen=True)
class Look:
    page: SyncPage | None = None
    ended: str | None = None  # "revoked": the credential no longer speaks for the account
    reset: bool = False  # the cursor fell behind the purge horizon


class _User:
    """What the feed needs of the account: its id."""

    def __init__(self, pk: int) -> None:
        self.pk = pk


def _look(*, credential: Credential, after: int, chain_start: int, check: bool) -> Look:
    """The changes after `after`; with `check`, the credential first, in the same query."""
    user = _User(credential.user_id)
    if check:
        account, refusal = credential.check()
        if refusal is not None:
            return Look(ended="revoked")
        latest, purged = account.sync_seq, account.sync_purged_seq
    else:
        try:
            latest, purged = sync_position(user=user)
        except AccountGone:
            return Look(ended="revoked")
    if SyncCursor(seq=after, chain_start=chain_start).expired(purged_seq=purged):
        return Look(reset=True)
    page = sync_page(
        user=user, after=after, limit=PAGE, latest=latest, now=timezone.now(), scopes=credential.scopes
    )
    return Look(page=page)


def _in_pool(function):
    """Run `function` in the executor's threads; a connection that failed is closed there, so
    the next call in that thread connects afresh (the database restarted, a failover)."""

    def run(**kwargs):
        try:
            return function(**kwargs)
        except DatabaseError:
            connection.close()
            raise

    return sync_to_async(run, thread_sensitive=False)


_look_async = _in_pool(_look)

# Reads in flight, by account, place in the feed and what the credential may see (a personal
# access token's scopes). A poke wakes every stream of the account at once (an app open on
# several devices and tabs, up to 50 streams): those at the same place that may see the same
# kinds share one read, started after the poke arrived, so it sees the change the poke announced.
# Measured with bench/events.py, one change to 50 streams of one account: median 100 ms, p99
# 132 ms with a read per stream; median 23 ms, p99 54 ms with shared reads (1 stream: 13 ms).
_reads: dict[tuple[int, int, int, frozenset[str] | None], tuple[float, asyncio.Future]] = {}


async def _look_shared(*, credential: Credential, after: int, chain_start: int, poked_at: float) -> Look:
    key = (credential.user_id, after, chain_start, credential.scopes)
    found = _reads.get(key)
    if found is None or found[0] < poked_at:
        future = asyncio.ensure_future(
            _look_async(credential=credential, after=after, chain_start=chain_start, check=False)
        )
        found = _reads[key] = (time.monotonic(), future)
        future.add_done_callback(lambda _, key=key, found=found: _reads.get(key) is found and _reads.pop(key))
    return await asyncio.shield(found[1])


_release_async = sync_to_async(stream_slot_release, thread_sensitive=False)


async def event_stream(*, credential: Credential, cursor: SyncCursor, slot: str) -> AsyncIterator[bytes]:
    """The stream after `cursor`, until its credential ends or the client goes."""
    user = _User(credential.user_id)
    stream_slot_started(slot)
    listener = hub.listen(credential.user_id, slot)
    try:
        await hub.ready()
        seq, chain_start = cursor.seq, cursor.chain_start
        check, beat_at = True, time.monotonic() + settings.EVENTS_HEARTBEAT_SECONDS
        ready = False
        while True:
            if credential.expires_at <= time.time():
                yield event("end", {"reason": "expired"})
                return
            try:
                if check:
                    look = await _look_async(
                        credential=credential, after=seq, chain_start=chain_start, check=True
                    )
                else:
                    look = await _look_shared(
                        credential=credential, after=seq, chain_start=chain_start, poked_at=listener.poked_at
                    )
            except DatabaseError as exc:  # look again on the next heartbeat
                logger.warning("events: database unreachable, the stream waits: %s", exc)
                look = None
            if look is None:
                pass
            elif look.ended:
                yield event("end", {"reason": look.ended})
                return
            elif look.reset:
                yield event("reset", RESET)
                return
            else:
                for change in look.page.changes:
                    position = cursor_encode(
                        user=user, cursor=SyncCursor(seq=change.seq, chain_start=chain_start)
                    )
                    yield event("change", change.entry(), id=position)
                seq = max(seq, look.page.seq)
                if look.page.has_more:
                    # A long backlog, read as fast as the client takes it: the credential again
                    # for each page, as it may have ended meanwhile.
                    check = True
                    continue
                if not ready:  # the backlog is sent
                    position = cursor_encode(
                        user=user, cursor=SyncCursor(seq=max(seq, 0), chain_start=chain_start)
                    )
                    yield event("ready", {"cursor": position}, id=position)
                    ready = True
            check = await _wait(listener, credential=credential, beat_at=beat_at)
            if check is None:
                yield event("end", {"reason": "expired"})
                return
            if time.monotonic() >= beat_at:
                yield HEARTBEAT
                beat_at = time.monotonic() + settings.EVENTS_HEARTBEAT_SECONDS
    finally:
        hub.forget(listener)
        await _release_async(user_id=credential.user_id, slot=slot)


async def _wait(listener, *, credential: Credential, beat_at: float) -> bool | None:
    """Until a poke, the heartbeat or the credential's expiry: whether to check the credential
    (a poke about the account, or a heartbeat), or None once it has expired."""
    expires_in = credential.expires_at - time.time()
    if expires_in <= 0:
        return None
    timeout = min(beat_at - time.monotonic(), expires_in)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.wake.wait(), max(timeout, 0))
    if credential.expires_at - time.time() <= 0:
        return None
    listener.wake.clear()
    check = listener.account_changed or time.monotonic() >= beat_at
    listener.account_changed = False
    return check
