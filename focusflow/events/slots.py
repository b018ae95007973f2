"""At most `EVENTS_MAX_STREAMS_PER_USER` open streams per account, across every events process.

Each open stream holds a slot: a member of the account's sorted set in Redis, scored with
when it lapses. A stream renews its slot on every heartbeat and gives it back when it ends;
a slot whose process died lapses after SLOT_HEARTBEATS heartbeats. Taking one is one
transaction (drop the lapsed, add, count), so racing opens never exceed the limit. Without
Redis (one process) the count is this process's own; with Redis out of reach, streams open
(the limit protects the server, and refusing everyone would be the worse failure).
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

_local: dict[int, set[str]] = {}
_local_lock = threading.Lock()


def _key(user_id: int) -> str:
    return f"focusflow:events:streams:{user_id}"


def _lapse() -> float:
    return SLOT_HEARTBEATS * settings.EVENTS_HEARTBEAT_SECONDS


def stream_slot_take(*, user_id: int) -> str | None:
    """A slot for a new stream, or None when the account has all of them open."""
    slot = uuid.uuid4().hex
    limit = settings.EVENTS_MAX_STREAMS_PER_USER
    if not settings.REDIS_URL:
        with _local_lock:
            slots = _local.setdefault(user_id, set())
            if len(slots) >= limit:
                return None
            slots.add(slot)
        return slot
    now, key = time.time(), _key(user_id)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + _lapse()})
        pipe.zcard(key)
        pipe.expire(key, int(_lapse()) + 1)
        _, _, count, _ = pipe.execute()
        if count > limit:
            get_redis_connection("default").zrem(key, slot)
            return None
    except RedisError as exc:
        logger.warning("events: stream slots unreadable, Redis unreachable: %s", exc)
    return slot


def stream_slot_keep(*, user_id: int, slot: str) -> None:
    """Renew a slot (on each heartbeat)."""
    if not settings.REDIS_URL:
        return
    key = _key(user_id)
    try:
        pipe = get_redis_connection("default").pipeline(transaction=True)
        pipe.zadd(key, {slot: time.time() + _lapse()})
        pipe.expire(key, int(_lapse()) + 1)
        pipe.execute()
    except RedisError as exc:
        logger.warning("events: stream slot not renewed, Redis unreachable: %s", exc)


def stream_slot_release(*, user_id: int, slot: str) -> None:
    if not settings.REDIS_URL:
        with _local_lock:
            slots = _local.get(user_id, set())
            slots.discard(slot)
            if not slots:
                _local.pop(user_id, None)
        return
    try:
        get_redis_connection("default").zrem(_key(user_id), slot)
    except RedisError as exc:
        logger.warning("events: stream slot not released (it lapses by itself), Redis unreachable: %s", exc)
