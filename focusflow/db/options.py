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
  the threads that are waiting, far past it. That is not an option of the connection: the
  project's database engine (`focusflow.db.backend`) puts a circuit breaker in front of
  connection attempts.

They are libpq's own parameters (the `options` string included), which Django passes to the
driver as they are; psycopg 3 and psycopg2 hand them to libpq alike.
"""

IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


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
    }
    # Settings given in the URL come later on the command line, so they take precedence.
    merged["options"] = f"{server} {options['options']}" if options.get("options") else server
    return merged
