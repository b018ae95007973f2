"""This process's open streams, by account, and the pokes that wake them.

One hub per events process. It keeps one Redis subscription (`focusflow.sync.pokes.CHANNEL`)
for all its streams, started with the first one; without `REDIS_URL` pokes come from this
process itself. A poke wakes the account's streams, which read what changed from the
database: the poke only says when to look. After the subscription is (re)established, every
stream looks at once, for whatever was published while it was down; a stream also looks on
every heartbeat, so a lost poke costs at most one heartbeat.
"""

import asyncio
import contextlib
import logging
import time
from collections import defaultdict

import orjson
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from redis.exceptions import RedisError

from focusflow.events.slots import stream_slots_keep
from focusflow.sync.pokes import CHANNEL, local_receiver_add

logger = logging.getLogger(__name__)

# How long a quiet subscription waits before it pings Redis, and how long without any answer
# before it takes the connection for dead and subscribes again.
PING_SECONDS = 5
SILENT_SECONDS = 15
# How long a new stream waits for the subscription before reading its backlog anyway.
READY_SECONDS = 2


class Listener:
    """One stream's mailbox: `wake` is set by a poke; `account_changed` says the poke was about
    the account's credentials."""

    __slots__ = ("user_id", "slot", "wake", "account_changed", "poked_at")

    def __init__(self, user_id: int, slot: str) -> None:
        self.user_id = user_id
        self.slot = slot
        self.wake = asyncio.Event()
        self.account_changed = False
        self.poked_at = 0.0  # time.monotonic() of the latest poke

    def poke(self, *, account: bool) -> None:
        self.account_changed = self.account_changed or account
        self.poked_at = time.monotonic()
        self.wake.set()


class Hub:
    def __init__(self) -> None:
        self._listeners: dict[int, set[Listener]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscriber: asyncio.Task | None = None
        self._keeper: asyncio.Task | None = None
        self._live: asyncio.Event | None = None
        local_receiver_add(self._deliver_threadsafe)

    def listen(self, user_id: int, slot: str) -> Listener:
        listener = Listener(user_id, slot)
        self._listeners[user_id].add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        listeners = self._listeners.get(listener.user_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[listener.user_id]

    def streams(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    async def ready(self) -> None:
        """Subscribed, so that no poke published from now on is missed (waits up to
        READY_SECONDS: with Redis out of reach, streams still serve, by their heartbeats)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the first stream in this event loop
            self._loop, self._live = loop, asyncio.Event()
            self._keeper = loop.create_task(self._keep_slots())
            if settings.REDIS_URL:
                self._subscriber = loop.create_task(self._subscribe(settings.REDIS_URL))
            else:
                self._live.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._live.wait(), READY_SECONDS)

    def deliver(self, message: dict) -> None:
        """A poke, in the event loop: wake the account's streams."""
        user_id = message.get("u") if isinstance(message, dict) else None
        for listener in self._listeners.get(user_id, ()) if type(user_id) is int else ():
            listener.poke(account="a" in message)

    def _deliver_threadsafe(self, message: dict) -> None:
        """A poke from this process without Redis: from a request's thread, after its commit."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.deliver, message)

    async def _keep_slots(self) -> None:
        """Every heartbeat, renew the slots of every open stream of this process (one Redis
        round trip), whatever each stream is doing (focusflow.events.slots)."""
        keep = sync_to_async(stream_slots_keep, thread_sensitive=False)
        while True:
            await asyncio.sleep(settings.EVENTS_HEARTBEAT_SECONDS)
            live = [
                (listener.user_id, listener.slot) for group in self._listeners.values() for listener in group
            ]
            try:
                await keep(live)
            except Exception:  # never let the keeper die: the next heartbeat tries again
                logger.exception("events: renewing stream slots failed")

    def _wake_all(self) -> None:
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.poke(account=True)

    async def _subscribe(self, url: str) -> None:
        delay = 0.5
        while True:
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=SILENT_SECONDS)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    heard = time.monotonic()
                    while True:
                        message = await pubsub.get_message(timeout=PING_SECONDS)
                        if message is not None:
                            heard = time.monotonic()
                            if message["type"] == "subscribe":
                                self._subscribed()
                                delay = 0.5
                            elif message["type"] == "message":
                                self.deliver(_decoded(message["data"]))
                        elif time.monotonic() - heard > SILENT_SECONDS:
                            raise ConnectionError(f"no answer from Redis for {SILENT_SECONDS} s")
                        else:
                            await pubsub.ping()
            except (RedisError, OSError) as exc:
                logger.warning(
                    "events: Redis subscription lost (%s); subscribing again in %.1f s", exc, delay
                )
            finally:
                self._live.clear()
                await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    def _subscribed(self) -> None:
        self._live.set()
        self._wake_all()  # whatever was published while there was no subscription


def _decoded(data) -> dict | None:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


hub = Hub()
