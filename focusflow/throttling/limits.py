"""Rate limits: one policy per kind of request, configured in one place, counted where every
worker and app server sees the same count.

- Password checks (`AUTH_THROTTLE_RATE`): API login and register, password change, account
  deletion, admin login and the admin's own password change. Counted per client address
  (normalised; IPv6 by /64, which one subscriber usually holds whole) and per account (the
  normalised email), so neither many accounts from one address nor one account from many
  addresses gets more than the rate.
- Authenticated writes (`USER_WRITE_THROTTLE_RATE`): per user, so one account cannot fill the
  database at full speed.
- Authenticated reads (`USER_READ_THROTTLE_RATE`): per user, so one account (or one stolen
  token) cannot take the servers from everybody else with full syncs and list pages, nor copy
  its whole account more often than the export's limit allows.
- The data export (`EXPORT_THROTTLE_RATE`): per user.
- Account recovery (`RECOVERY_THROTTLE_RATE`): password-reset requests, verification resends
  and codes tried, per email (whether or not an account has it) and, at six times the rate, per
  client address. And codes tried per account (`RECOVERY_CODES_RATE`, 20 a day), after which
  only links work for it. Codes count before they are checked, right or wrong: a count taken
  after the check would let racing guesses through before any was counted.

Each limit counts fixed windows of its period (`20/minute`: calendar minutes), so a limit
reached ends with its window: refused attempts do not extend it, and an account's password
checks are refused at most until the end of the period after the attempts stop (no lockout
that outlives an attack). A request refused for its address is not counted against its
account, so one address cannot spend an account's budget beyond its own, and keeping an
account refused takes fresh addresses every period.

Counts are atomic and shared: a Redis INCR when REDIS_URL is set (the database if Redis
fails), else an upsert in the database (`ThrottleCounter`), shared by every worker of every
server on it. DRF's own throttles keep a list in the cache written back with get/set, which
concurrent workers overwrite; Django's database and file caches have no atomic increment.
`THROTTLE_COUNTER_STORE = "memory"` (the local cache) is for one process only: the tests.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django_redis import get_redis_connection
from rest_framework.throttling import BaseThrottle

from focusflow.throttling.models import ThrottleCounter

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limit:
    scope: str
    setting: str  # the settings attribute holding the rate, read on each use
    factor: int = 1  # this many times the rate

    def rate(self) -> tuple[int, int] | None:
        """(requests, seconds), or None when the setting is None (`off`)."""
        rate = getattr(settings, self.setting)
        if rate is None:
            return None
        number, period = rate.split("/")
        return int(number) * self.factor, _PERIODS[period[0]]

    def hit(self, identity: str) -> float | None:
        """Count one request by `identity`; the seconds until it may try again when it is
        over the limit, else None."""
        rate = self.rate()
        if rate is None:
            return None
        allowed, period = rate
        now = time.time()
        key = f"{self.scope}:{hashlib.sha256(identity.encode()).hexdigest()[:32]}"
        count, window = _count(key, window=int(now // period), period=period)
        if count <= allowed:
            return None
        return max((window + 1) * period - now, 1)


PASSWORD_CHECKS = Limit("password", "AUTH_THROTTLE_RATE")
USER_WRITES = Limit("write", "USER_WRITE_THROTTLE_RATE")
USER_READS = Limit("read", "USER_READ_THROTTLE_RATE")
PERSONAL_TOKENS = Limit("token", "TOKEN_THROTTLE_RATE")
EXPORTS = Limit("export", "EXPORT_THROTTLE_RATE")
RECOVERY = Limit("recovery", "RECOVERY_THROTTLE_RATE")
RECOVERY_ADDRESSES = Limit("recovery-address", "RECOVERY_THROTTLE_RATE", factor=6)
WRONG_CODES = Limit("codes", "RECOVERY_CODES_RATE")


def client_address(request) -> str:
    """The client's address as DRF's throttles find it (REMOTE_ADDR, or the one that many
    proxies back in X-Forwarded-For, `DJANGO_NUM_PROXIES`), in one canonical form: every
    spelling of an IPv6 address is one client, IPv6 counts by its /64 and an IPv4-mapped
    IPv6 address as its IPv4 address."""
    raw = (BaseThrottle().get_ident(request) or "").strip()
    try:
        address = ipaddress.ip_address(raw.split("%")[0])  # without an IPv6 zone (%eth0)
    except ValueError:
        return raw[:100]  # not an address: counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def password_check_wait(request, *, account: str | None) -> float | None:
    """Count one password check from this request's client and, if it is let through,
    against `account` (a normalised email; None when there is none to name). The seconds to
    wait when either is over AUTH_THROTTLE_RATE, else None. Every place that checks a
    password calls this first: the API views through PasswordCheckThrottle, the admin's
    forms directly."""
    return _client_then_account(request, account, per_client=PASSWORD_CHECKS, per_account=PASSWORD_CHECKS)


def recovery_wait(request, *, account: str | None) -> float | None:
    """Count one recovery attempt (a reset request, a resend, a code tried) from this
    request's client and, if it is let through, against `account` (a normalised email); the
    seconds to wait when either is over RECOVERY_THROTTLE_RATE, else None."""
    return _client_then_account(request, account, per_client=RECOVERY_ADDRESSES, per_account=RECOVERY)


def _client_then_account(
    request, account: str | None, *, per_client: Limit, per_account: Limit
) -> float | None:
    """Count against the request's client and, only if that lets it through, `account`."""
    wait = per_client.hit(f"address:{client_address(request)}")
    if wait is None and account:
        wait = per_account.hit(f"account:{account}")
    return wait


def account_of_email(email) -> str | None:
    """The account an email names, for counting: its normalised form, or None when it is not
    a string or cannot be normalised (the request is then refused before any check)."""
    if not isinstance(email, str):
        return None
    try:
        return get_user_model().objects.normalize_email(email)
    except ValidationError:
        return None


# --- Counters -------------------------------------------------------------------------------


def _count(key: str, *, window: int, period: int) -> tuple[int, int]:
    """Add one to `key`'s count in `window`; (the count, the window it is counted in)."""
    store = settings.THROTTLE_COUNTER_STORE
    if store == "redis":
        try:
            return _count_in_redis(key, window=window, period=period)
        except Exception as exc:  # redis.RedisError, and django-redis' own errors around it
            logger.warning("Rate limit: Redis failed (%s); counting in the database", exc)
    elif store == "memory":
        return _count_in_memory(key, window=window, period=period)
    return _count_in_database(key, window=window, period=period)


def _count_in_redis(key: str, *, window: int, period: int) -> tuple[int, int]:
    name = cache.make_key(f"throttle:{key}:{window}")
    pipeline = get_redis_connection("default").pipeline(transaction=True)
    pipeline.incr(name)
    pipeline.expire(name, period + 1)
    count, _ = pipeline.execute()
    return int(count), window


def _count_in_memory(key: str, *, window: int, period: int) -> tuple[int, int]:
    name = f"throttle:{key}:{window}"
    cache.add(name, 0, timeout=period + 1)
    try:
        return cache.incr(name), window
    except ValueError:  # evicted between add and incr
        cache.add(name, 1, timeout=period + 1)
        return 1, window


def _count_in_database(key: str, *, window: int, period: int) -> tuple[int, int]:
    """One atomic statement: insert the count, or add one to it in
    the same window, or start it again in a later one. A late request from a server whose
    clock is behind is counted in the newer window, never resets it."""
    q = connection.ops.quote_name
    table, key_, window_, count_, expires_ = (
        q(name) for name in (ThrottleCounter._meta.db_table, "key", "window_index", "count", "expires_at")
    )
    later = f"{table}.{window_} >= excluded.{window_}"  # the stored window is this one, or newer
    expires_at = datetime.fromtimestamp((window + 1) * period, tz=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} ({key_}, {window_}, {count_}, {expires_}) VALUES (%s, %s, 1, %s)
            ON CONFLICT ({key_}) DO UPDATE SET
                {count_} = CASE WHEN {later} THEN {table}.{count_} + 1 ELSE 1 END,
                {expires_} = CASE WHEN {later} THEN {table}.{expires_} ELSE excluded.{expires_} END,
                {window_} = CASE WHEN {later} THEN {table}.{window_} ELSE excluded.{window_} END
            RETURNING {count_}, {window_}
            """,
            [key, window, expires_at],
        )
        count, counted_window = cursor.fetchone()
    return count, counted_window


def throttle_counters_purge(*, now: datetime | None = None) -> int:
    """Delete database counters whose window has ended; returns how many went."""
    deleted, _ = ThrottleCounter.objects.filter(expires_at__lte=now or datetime.now(tz=UTC)).delete()
    return deleted
