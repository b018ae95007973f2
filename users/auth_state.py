"""The account as authentication sees it, from the shared cache: an authenticated request then
costs no database query, and a revocation still takes effect at once on every app server.

What is cached, per user: the account's fields that requests use (the rest, the password hash
among them, load from the database if ever touched), the version of its current password, and
its revoked logins (token families). `users.tokens.token_refusal` decides from it exactly as
from the database row.

Why a revocation is never missed: each user has a *generation*, a random value under
`auth:gen:<id>`, replaced after every commit that changes what authentication reads (the
account's row, its deletion, a revoked login; see `account_changed`). A cached state records
the generation it was read under and counts only while that is still the current one. A
request that misses reads the generation first and the database second, so whatever it then
caches is at least as new as that generation: a change that commits after the database read
replaces the generation after that, and the state cached meanwhile is never believed.
Generations are random, not counters, so one that Redis evicted can never come back with a
value an old state still carries.

Without a shared cache (no REDIS_URL: per-process memory, which other workers would not see
change) nothing is cached: one query per request, as SimpleJWT's own lookup costs.
"""

import hashlib
import json
import logging
from datetime import datetime
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from focusflow.sync.pokes import poke_account
from users.models import RevokedTokenFamily, User
from users.tokens import TokenHolder, password_version, token_holder

logger = logging.getLogger(__name__)

# The account's fields a request may use without a query (request.user); any other field, the
# password hash included, is deferred and loads from the database when read. In the model's
# own field order, which Model.from_db expects.
_USED = {
    "id",
    "email",
    "display_name",
    "timezone",
    "daily_goal_minutes",
    "date_joined",
    "is_active",
    "email_verified",
    "pending_email",
    "pending_email_until",
    "is_staff",
    "is_superuser",
}
_SNAPSHOT = tuple(field for field in User._meta.concrete_fields if field.attname in _USED)
SNAPSHOT_FIELDS = tuple(field.attname for field in _SNAPSHOT)
# A bound on how long a state could outlive a change whose new generation Redis failed to
# store (it was down at that very moment); otherwise states are dropped by generation.
STATE_SECONDS = 120


def _shared() -> bool:
    return settings.CACHES["default"]["BACKEND"].startswith("django_redis.")


# The state's format: JSON, with the values of these fields. During a deploy, processes of the
# release before (which kept other fields, or pickled them) and of this one never read each
# other's states: the key names the format.
_FORMAT = "json-" + hashlib.sha256(",".join(SNAPSHOT_FIELDS).encode()).hexdigest()[:8]


def _keys(user_id: int) -> tuple[str, str]:
    """The state's and the generation's keys, in the cache's namespace (its KEY_PREFIX)."""
    return cache.make_key(f"auth:state:{_FORMAT}:{user_id}"), cache.make_key(f"auth:gen:{user_id}")


# Redis through the cache's own client (django-redis's `get_redis_connection`), not the cache
# API: a failure must read as "Redis is out of reach" (then the database alone answers, and
# Redis is not tried again in this request, each try can cost a timeout), where the cache API,
# which ignores Redis errors (IGNORE_EXCEPTIONS), would read it as a miss. Values are JSON:
# the generation as text, the state as an object. A write that fails is logged and skipped.


def _read(*keys: str) -> list[bytes | None] | None:
    """The keys' values (None for a missing one); None when Redis cannot be read."""
    try:
        return get_redis_connection("default").mget(keys)
    except RedisError as exc:
        logger.warning("auth state: Redis unreachable, reading the database: %s", exc)
        return None


def _write(key: str, value: str, *, seconds: int | None = None, only_new: bool = False) -> bool:
    try:
        return bool(get_redis_connection("default").set(key, value, ex=seconds, nx=only_new))
    except RedisError as exc:
        logger.warning("auth state: Redis write failed: %s", exc)
        return False


def authenticated_holder(*, user_id: int, family: str) -> TokenHolder:
    """`users.tokens.token_holder`, from the shared cache while it is current."""
    if not _shared():
        return token_holder(user_id=user_id, family=family)
    state_key, gen_key = _keys(user_id)
    found = _read(state_key, gen_key)
    if found is None:  # Redis out of reach: the database alone, not Redis again (its timeouts)
        return token_holder(user_id=user_id, family=family)
    stored, generation = found
    state = _decoded(stored)
    generation = generation.decode() if generation is not None else None
    if state is None or generation is None or state["gen"] != generation:
        state = _load(user_id, gen_key, generation)
        if state is None:
            return TokenHolder(user=None, family_revoked=False, token_version=None)
    values = [field.to_python(value) for field, value in zip(_SNAPSHOT, state["values"], strict=True)]
    user = User.from_db(DEFAULT_DB_ALIAS, SNAPSHOT_FIELDS, values)
    return TokenHolder(user=user, family_revoked=family in state["revoked"], token_version=state["tv"])


def _decoded(stored: bytes | None) -> dict | None:
    """A stored state, or None (a miss) when there is none or it cannot be read."""
    if stored is None:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        return None


def _iso(value):
    """Timestamps in full (DjangoJSONEncoder would cut them to milliseconds)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _load(user_id: int, gen_key: str, generation: str | None) -> dict | None:
    """The state from the database, cached under `generation` (read before it)."""
    if generation is None:  # never changed yet, or evicted: start one
        fresh = uuid4().hex
        if _write(gen_key, fresh, only_new=True):
            generation = fresh
        else:  # another request started one first (or Redis failed: None, nothing cached)
            current = _read(gen_key)
            generation = current[0].decode() if current and current[0] is not None else None
    row = User.objects.filter(pk=user_id).values_list(*SNAPSHOT_FIELDS, "password").first()
    if row is None:
        return None
    revoked = RevokedTokenFamily.objects.filter(user_id=user_id, expires_at__gt=timezone.now())
    state = {
        "gen": generation,
        "values": row[:-1],
        "tv": password_version(row[-1]),
        "revoked": list(revoked.values_list("family", flat=True)),
    }
    if generation is not None:  # None: Redis is failing; answer without caching
        _store(user_id, state)
    return state


def _store(user_id: int, state: dict) -> None:
    state_key, _ = _keys(user_id)
    _write(state_key, json.dumps(state, default=_iso), seconds=STATE_SECONDS)


def account_changed(user_id: int) -> None:
    """What authentication reads of this account changed: once the change commits (at once
    outside a transaction), every cached state of it stops counting, on every app server, and
    its live streams check their credential again."""
    poke_account(user_id=user_id)
    if not _shared():
        return
    _, gen_key = _keys(user_id)
    transaction.on_commit(lambda: _write(gen_key, uuid4().hex))


# Signal receivers, connected in UsersConfig.ready().


def user_saved_or_deleted(sender, instance: User, **kwargs) -> None:
    account_changed(instance.pk)


def family_revoked(sender, instance: RevokedTokenFamily, **kwargs) -> None:
    account_changed(instance.user_id)
