"""PostgreSQL connection options that keep a lost database from hanging a request.

No Django imports: `settings.py` calls `outage_safe_options`.

- A new connection gives up after `connect_timeout` seconds (a host that is down, a firewall
  that drops packets).
- A connection already open when the network dies silently (a partition: no reset, no answer)
  would otherwise wait for the kernel's retransmissions, about 15 minutes. TCP keepalives probe
  it every second while it is idle or waiting for a result, and `tcp_user_timeout` aborts it
  once sent data or probes stay unanswered that long: the request fails within the same few
  seconds and answers 503. A live server's kernel answers probes at once, even during a slow
  query, so neither option limits how long a query may run.
- The server is asked to do the same for its side (`tcp_*` settings in `options`), so the
  transaction of a client that vanished mid-request is rolled back within seconds instead of
  holding its row locks against the client's retry for hours; `idle_in_transaction_session_timeout`
  ends one whose client is connected but stuck.
- Under load, waiting out `connect_timeout` in every request would pile requests up behind
  the threads that are waiting, far past it. After a failed attempt, `GuardedConnection`
  fails new attempts of the same process at once for a moment, then lets one attempt at a
  time find out whether the database is back (a circuit breaker).
"""

import threading
import time

import psycopg2
import psycopg2.extensions

IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
# After a failed connection attempt, new attempts to the same database fail at once for this
# long; then one at a time tries again (the others still fail at once) until one succeeds.
RETRY_CONNECT_AFTER_SECONDS = 1.0


class _Breaker:
    """The connection attempts of one process to one database (host, port, name, user)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed_at: float | None = None  # None: the last attempt succeeded
        self.probing = False

    def admit(self) -> None:
        with self.lock:
            if self.failed_at is None:
                return
            waited = time.monotonic() - self.failed_at
            if waited < RETRY_CONNECT_AFTER_SECONDS or self.probing:
                raise psycopg2.OperationalError(
                    f"database unavailable: the last connection attempt failed {waited:.1f} s ago"
                )
            self.probing = True

    def settle(self, *, ok: bool) -> None:
        with self.lock:
            self.failed_at = None if ok else time.monotonic()
            self.probing = False


_breakers: dict[tuple, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(dsn: str) -> _Breaker:
    params = psycopg2.extensions.parse_dsn(dsn)
    key = tuple(params.get(name) for name in ("host", "port", "dbname", "user"))
    with _breakers_lock:
        return _breakers.setdefault(key, _Breaker())


class GuardedConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose opening goes through the process's breaker for its
    database (`connection_factory` in the OPTIONS)."""

    def __init__(self, dsn: str, *args, **kwargs) -> None:
        breaker = _breaker_for(dsn)
        breaker.admit()
        ok = False
        try:
            super().__init__(dsn, *args, **kwargs)
            ok = True
        finally:
            breaker.settle(ok=ok)


def outage_safe_options(*, timeout: int, options: dict) -> dict:
    """libpq options for a `timeout`-second bound on connecting and on a dead connection.
    Options from DATABASE_URL win where they say otherwise, but for `connect_timeout`
    (DB_CONNECT_TIMEOUT decides it)."""
    server = (
        f"-c tcp_keepalives_idle=1 -c tcp_keepalives_interval=1 -c tcp_keepalives_count={timeout} "
        f"-c tcp_user_timeout={timeout * 1000} "
        f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}"
    )
    merged = {
        "keepalives": 1,
        "keepalives_idle": 1,
        "keepalives_interval": 1,
        "keepalives_count": timeout,
        "tcp_user_timeout": timeout * 1000,
        **options,
        "connect_timeout": timeout,
        "connection_factory": GuardedConnection,
    }
    # Settings given in the URL come later on the command line, so they take precedence.
    merged["options"] = f"{server} {options['options']}" if options.get("options") else server
    return merged
