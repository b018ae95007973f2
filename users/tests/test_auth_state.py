"""Authentication from the shared cache: no query per request, and every revocation at once."""

import threading

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from focusflow.testing import T0, UserClient, frozen
from users import auth_state, services
from users.models import User
from users.tests.factories import PASSWORD
from users.tokens import FAMILY_CLAIM

# Invalidation runs when the change commits: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/users/me/"
LOGIN, LOGOUT = "/api/users/login/", "/api/users/logout/"


def login(api_client, email: str = "alice@example.com", password: str = PASSWORD) -> dict:
    response = api_client.post(LOGIN, {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def tokens_family(tokens: dict) -> str:
    return AccessToken(tokens["access"])[FAMILY_CLAIM]


def with_token(api_client, tokens: dict):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return api_client


def test_with_a_shared_cache_authenticating_costs_no_query(
    redis_cache, api_client, alice, django_assert_num_queries
):
    client = with_token(api_client, login(api_client))
    client.get(ME)  # the first reads the account and caches it
    with django_assert_num_queries(1):  # me/'s own read of the profile; none to authenticate
        response = client.get(ME)
    assert response.json()["email"] == "alice@example.com"


def test_without_a_shared_cache_authenticating_is_one_query_as_before(
    api_client, alice, django_assert_num_queries
):
    client = with_token(api_client, login(api_client))
    client.get(ME)
    with django_assert_num_queries(2):  # the account and its login's revocation; the profile
        client.get(ME)


def test_a_profile_change_is_seen_by_the_next_request(redis_cache, alice_client, alice):
    alice_client.get(ME)
    alice_client.patch(ME, {"display_name": "A.", "timezone": "Asia/Tokyo"})
    assert (alice_client.get(ME).json()["display_name"], alice_client.get(ME).json()["timezone"]) == (
        "A.",
        "Asia/Tokyo",
    )


def test_logout_locks_the_cached_login_out_at_once_and_only_it(redis_cache, api_client, alice, client_for):
    phone, laptop = login(api_client), login(api_client)
    with_token(api_client, phone).get(ME)
    api_client.credentials()
    assert api_client.post(LOGOUT, {"refresh": phone["refresh"]}).status_code == 204
    assert with_token(api_client, phone).get(ME).status_code == 401
    assert with_token(api_client, laptop).get(ME).status_code == 200  # the other device goes on


@pytest.mark.parametrize("how", ["password", "deactivation", "deletion", "admin-password"])
def test_account_changes_lock_cached_tokens_out_at_once(redis_cache, api_client, alice, how):
    client = with_token(api_client, login(api_client))
    assert client.get(ME).status_code == 200  # cached now
    account = User.objects.get(pk=alice.pk)
    if how == "password":
        services.user_change_password(
            user=account, current_password=PASSWORD, new_password="a-new-long-passphrase"
        )
    elif how == "deactivation":
        services.user_deactivate(user=account)
    elif how == "deletion":
        account.delete()
    else:
        account.set_password("set-by-an-admin-passphrase")
        account.save()
    assert client.get(ME).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_state_read_before_a_change_committed_is_never_believed(
    redis_cache, api_client, alice, monkeypatch
):
    """The race the generations close: a request reads the account, a logout commits, and only
    then does the request store what it read. The next request must not believe it."""
    tokens = login(api_client)
    state_key, _ = auth_state._keys(alice.pk)
    read_the_database, logout_committed = threading.Event(), threading.Event()
    store = auth_state._store

    def store_late(user_id, state):
        read_the_database.set()  # the request in flight has read the database: hold it here
        assert logout_committed.wait(10)
        store(user_id, state)

    monkeypatch.setattr(auth_state, "_store", store_late)

    def request_in_flight():
        try:
            holder = auth_state.authenticated_holder(user_id=alice.pk, family=tokens_family(tokens))
            assert not holder.family_revoked  # it read the account before the logout
        finally:
            connection.close()

    in_flight = threading.Thread(target=request_in_flight)
    in_flight.start()
    assert read_the_database.wait(10)
    monkeypatch.setattr(auth_state, "_store", store)  # the logout's own writes go through
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})  # commits; a new generation
    logout_committed.set()
    in_flight.join(10)
    assert redis_cache.keys(f"*{state_key}")  # the stale state was stored...
    assert with_token(api_client, tokens).get(ME).status_code == 401  # ...and not believed


def test_an_evicted_generation_does_not_bring_back_an_old_state(redis_cache, api_client, alice):
    client = with_token(api_client, login(api_client))
    client.get(ME)
    _, gen_key = auth_state._keys(alice.pk)
    redis_cache.delete(*redis_cache.keys(f"*{gen_key}"))  # Redis evicted it
    User.objects.filter(pk=alice.pk).update(is_active=False)  # behind every signal's back
    assert client.get(ME).status_code == 401


def test_cached_states_expire_on_their_own(redis_cache, alice):
    """A bound on staleness should Redis ever fail to store a new generation."""
    with frozen(T0):
        UserClient(alice).get(ME)
    state_key, _ = auth_state._keys(alice.pk)
    ttl = redis_cache.ttl(redis_cache.keys(f"*{state_key}")[0])
    assert 0 < ttl <= auth_state.STATE_SECONDS


def test_with_redis_out_of_reach_authentication_reads_the_database(
    settings, api_client, alice, django_assert_num_queries, caplog
):
    tokens = login(api_client)
    # The read limit counts in the test cache, which this replaces; with Redis out of reach it
    # counts in PostgreSQL (focusflow/throttling/tests), which would add a query here.
    settings.USER_READ_THROTTLE_RATE = None
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "KEY_PREFIX": "focusflow",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "IGNORE_EXCEPTIONS": True},
        }
    }
    client = with_token(api_client, tokens)
    with django_assert_num_queries(2):  # the account with its login's revocation, the profile
        assert client.get(ME).json()["email"] == "alice@example.com"
    # Redis is tried once, not again to start a generation or store a state: each try can cost
    # a connect timeout when Redis is silently gone.
    tries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("auth state")]
    assert len(tries) == 1 and "Redis unreachable" in tries[0], tries
    User.objects.filter(pk=alice.pk).update(is_active=False)  # no cache to be stale
    assert client.get(ME).status_code == 401


def test_a_state_that_cannot_be_read_is_a_miss_not_a_500(redis_cache, api_client, alice):
    """A value this release cannot decode (garbage, or another format) is read again from the
    database and replaced."""
    client = with_token(api_client, login(api_client))
    state_key, _ = auth_state._keys(alice.pk)
    assert client.get(ME).status_code == 200  # cached
    (stored,) = redis_cache.keys(f"*{state_key}")
    redis_cache.set(stored, b"\x80\x05not json")
    assert client.get(ME).status_code == 200
    assert redis_cache.get(stored).startswith(b"{")


def test_a_cached_account_keeps_its_timestamps_to_the_microsecond(redis_cache, api_client, alice):
    """PATCH answers with the account authentication loaded (from the cache); GET reads the
    database: both show the same `date_joined`."""
    User.objects.filter(pk=alice.pk).update(date_joined=T0.replace(microsecond=123456))
    client = with_token(api_client, login(api_client))
    client.get(ME)  # cached
    patched = client.patch(ME, {"display_name": "Alice B."}, format="json").json()
    assert patched["date_joined"] == client.get(ME).json()["date_joined"] == "2026-11-20T09:00:00.123456Z"
