"""Django's PostgreSQL backend, whose connection attempts go through a circuit breaker.

Under load, waiting out `connect_timeout` (focusflow/db/options.py) in every request would pile
requests up behind the threads that are waiting, far past it. After a failed attempt, the
process fails new attempts to the same database (host, port, name, user) at once for a moment,
then lets one attempt at a time find out whether the database is back; the others still fail
at once until it succeeds.

The breaker wraps Django's `get_new_connection` rather than the driver's connection class, so
it holds whichever driver Django picked: psycopg 3, which Django prefers once it is importable
(procrastinate needs it), or psycopg2. What it raises is that driver's OperationalError, which
Django turns into its own like a refused connection, so an open breaker answers the same 503
(focusflow/db/outage.py).
"""

import threading
import time

from django.db.backends.postgresql import base

# After a failed connection attempt, new attempts to the same database fail at once for this
# long; then one at a time tries again (the others still fail at once) until one succeeds.
RETRY_CONNECT_AFTER_SECONDS = 1.0


class _Breaker:
    """The connection attempts of one process to one database (host, port, name, user)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed_at: float | None = None  # None: the last attempt succeeded
        self.probing = False

    def admit(self, refused: type[Exception]) -> None:
        """Returns if this attempt may go ahead; raises `refused` if not."""
        with self.lock:
            if self.failed_at is None:
                return
            waited = time.monotonic() - self.failed_at
            if waited < RETRY_CONNECT_AFTER_SECONDS or self.probing:
                raise refused(f"database unavailable: the last connection attempt failed {waited:.1f} s ago")
            self.probing = True

    def settle(self, *, ok: bool) -> None:
        with self.lock:
            self.failed_at = None if ok else time.monotonic()
            self.probing = False


_breakers: dict[tuple, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(conn_params: dict) -> _Breaker:
    key = tuple(
        None if conn_params.get(name) is None else str(conn_params[name])
        for name in ("host", "port", "dbname", "user")
    )
    with _breakers_lock:
        return _breakers.setdefault(key, _Breaker())


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        breaker = _breaker_for(conn_params)
        breaker.admit(self.Database.OperationalError)
        ok = False
        try:
            connection = super().get_new_connection(conn_params)
            ok = True
        finally:
            breaker.settle(ok=ok)
        return connection
