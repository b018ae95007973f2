"""At most `EVENTS_MAX_STREAMS_PER_USER` open streams per account, across every events process.

Each open stream holds a slot: a member of the account's sorted set in Redis, scored with
when it lapses (SLOT_HEARTBEATS heartbeats on). Each events process renews the slots of all
its open streams on every heartbeat (focusflow.events.hub), whatever each stream is doing (one
stuck writing to a client that does not read still counts), and a stream gives its slot back
when it ends; the slots of a process that died lapse. Taking one is one transaction (drop the
lapsed, add, count), so racing opens never exceed the limit. A slot taken for a request whose
stream never started (the client left first) is given back on the next heartbeat.

Without Redis (one process) the same, in this process's memory. With Redis out of reach,
streams open (the limit protects the server, and refusing everyone would be the worse failure).
"""

import logging
import threading
import time
import uuid

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SLOT_HEARTBEATS = 3
# A slot whose stream has not started this long after it was taken is given back.
UNSTARTED_SECONDS = 5

_lock = threading.Lock()
_local: dict[int, dict[str, float]] = {}  # without Redis: per account, slot -> when it lapses
_unstarted: dict[str, tuple[int, float]] = {}  # slot -> (account, when it was taken)


def _key(user_id: int) -> str:
    return f"focusflow:events:streams:{user_id}"


def _lapse() -> float:
    return SLOT_HEARTBEATS * settings.EVENTS_HEARTBEAT_SECONDS


def stream_slot_take(*, user_id: int) -> str | None:
    """A slot for a new stream, or None when the account has all of them open."""
    slot = uuid.uuid4().hex
    now, limit = time.time(), settings.EVENTS_MAX_STREAMS_PER_USER
    with _lock:
        _unstarted[slot] = (user_id, time.monotonic())
    if not settings.REDIS_URL:
        with _lock:
            slots = _local.setdefault(user_id, {})
            for lapsed in [s for s, until in slots.items() if until <= now]:
                del slots[lapsed]
            if len(slots) >= limit:
                del _unstarted[slot]
                return None
            slots[slot] = now + _lapse()
        return slot
    key = _key(user_id)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + _lapse()})
        pipe.zcard(key)
        pipe.expire(key, int(_lapse()) + 1)
        _, _, count, _ = pipe.execute()
        if count > limit:
            get_redis_connection("default").zrem(key, slot)
            with _lock:
                del _unstarted[slot]
            return None
    except RedisError as exc:
        logger.warning("events: stream slots unreadable, Redis unreachable: %s", exc)
    return slot


def stream_slot_started(slot: str) -> None:
    with _lock:
        _unstarted.pop(slot, None)


def stream_slots_keep(slots: list[tuple[int, str]]) -> None:
    """Renew the slots of this process's open streams, `(account, slot)`; give back the ones
    whose stream never started."""
    now = time.monotonic()
    with _lock:
        abandoned = [
            (user, slot) for slot, (user, taken) in _unstarted.items() if now - taken > UNSTARTED_SECONDS
        ]
    for user_id, slot in abandoned:
        stream_slot_release(user_id=user_id, slot=slot)
    until = time.time() + _lapse()
    if not settings.REDIS_URL:
        with _lock:
            for user_id, slot in slots:
                if slot in _local.get(user_id, {}):
                    _local[user_id][slot] = until
        return
    if not slots:
        return
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for user_id, slot in slots:
            pipe.zadd(_key(user_id), {slot: until}, xx=True)
            pipe.expire(_key(user_id), int(_lapse()) + 1)
        pipe.execute()
    except RedisError as exc:
        logger.warning("events: stream slots not renewed, Redis unreachable: %s", exc)


def stream_slot_release(*, user_id: int, slot: str) -> None:
    with _lock:
        _unstarted.pop(slot, None)
        if not settings.REDIS_URL:
            slots = _local.get(user_id, {})
            slots.pop(slot, None)
            if not slots:
                _local.pop(user_id, None)
            return
    try:
        get_redis_connection("default").zrem(_key(user_id), slot)
    except RedisError as exc:
        logger.warning("events: stream slot not released (it lapses by itself), Redis unreachable: %s", exc)
