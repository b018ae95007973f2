"""Pokes: after a commit, "user U has changes up to N" or "user U's account changed", for the
live streams (`focusflow.events`) of every process to wake up and look.

A poke carries no private data and promises nothing: the database is the truth. A stream
that misses one (Redis down, a process restarting) finds the change on its next heartbeat,
when it looks again anyway.

With `REDIS_URL`, pokes are published on one Redis pub/sub channel, which each events process
subscribes to once. Without it (a local run: one process serves the API and the streams)
they go straight to this process's streams.
"""

import logging
from collections.abc import Callable

import orjson
from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CHANNEL = "focusflow:events"

# This process's receivers, without Redis: the events hub registers itself.
_local_receivers: list[Callable[[dict], None]] = []


def local_receiver_add(receiver: Callable[[dict], None]) -> None:
    _local_receivers.append(receiver)


def poke_changes(*, user_id: int, seq: int) -> None:
    """Once the current transaction commits: the account has changes up to `seq`."""
    transaction.on_commit(lambda: _publish({"u": user_id, "s": seq}))


def poke_account(*, user_id: int) -> None:
    """Once the current transaction commits: what authenticates the account changed (a
    logout, a new password, its deletion...); its streams check their credential again."""
    transaction.on_commit(lambda: _publish({"u": user_id, "a": 1}))


def _publish(message: dict) -> None:
    if not settings.REDIS_URL:
        for receiver in _local_receivers:
            receiver(message)
        return
    try:
        get_redis_connection("default").publish(CHANNEL, orjson.dumps(message))
    except RedisError as exc:  # the streams look again on their next heartbeat
        logger.warning("events: poke not published, Redis unreachable: %s", exc)
