"""Rate limits: client addresses, the shared counters, the write and export limits, the schema."""

from datetime import UTC, datetime

import pytest
import redis
import time_machine
from django.core.management import call_command
from django.test import RequestFactory

from focusflow.testing import TEST_REDIS_URL, all_at_once, at, streamed_json
from focusflow.throttling.limits import PASSWORD_CHECKS, USER_READS, USER_WRITES, client_address
from focusflow.throttling.models import ThrottleCounter

LOGIN = "/api/users/login/"
START = "/api/sessions/start/"
STOP = "/api/sessions/stop/"
EXPORT = "/api/users/me/export/"
ME = "/api/users/me/"


def _address(remote_addr: str, **meta) -> str:
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **meta))


# --- client addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["2001:DB8::77", "2001:0db8:0:0::77", "2001:db8:0000:0000:0000:0000:0000:0077", "2001:db8::77%eth0",
     "2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff"],
)  # fmt: skip
def test_every_spelling_of_an_ipv6_address_in_one_64_is_one_client(spelling):
    assert _address(spelling) == "2001:db8::/64"


def test_another_ipv6_64_is_another_client():
    assert _address("2001:db8:0:1::77") == "2001:db8:0:1::/64"


@pytest.mark.parametrize("spelling", ["192.0.2.7", "::ffff:192.0.2.7", "::FFFF:c000:0207"])
def test_an_ipv4_address_is_one_client_however_it_is_written(spelling):
    assert _address(spelling) == "192.0.2.7"


def test_behind_a_proxy_the_address_it_reports_is_normalised_too(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert _address("10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 2001:0DB8::0077") == "2001:db8::/64"


@pytest.mark.django_db
def test_ipv6_variants_share_one_login_count(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    variants = ["2001:DB8::77", "2001:0db8:0:0::77", "2001:db8::78"]
    for i, address in enumerate(variants):  # a different account each time: only the address counts
        body = {"email": f"guess{i}@example.com", "password": "wrong-password-1"}
        assert api_client.post(LOGIN, body, REMOTE_ADDR=address).status_code == 401
    body = {"email": "guess9@example.com", "password": "wrong-password-1"}
    assert api_client.post(LOGIN, body, REMOTE_ADDR="2001:db8:0:0:0:0:0:79").status_code == 429
    assert api_client.post(LOGIN, body, REMOTE_ADDR="2001:db8:0:1::77").status_code == 401


# --- the shared counters --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_counts_are_exact_under_concurrent_requests(settings):
    settings.THROTTLE_COUNTER_STORE = "database"
    settings.AUTH_THROTTLE_RATE = "5/day"
    waits = all_at_once(lambda _: PASSWORD_CHECKS.hit("address:198.51.100.1"), 12)
    assert sum(wait is None for wait in waits) == 5
    assert ThrottleCounter.objects.get().count == 12


@pytest.mark.django_db
def test_a_database_count_starts_again_in_the_next_window_and_ignores_a_late_one(settings):
    settings.THROTTLE_COUNTER_STORE = "database"
    settings.USER_WRITE_THROTTLE_RATE = "2/minute"
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, 10, tzinfo=UTC), tick=False):
        assert [USER_WRITES.hit("user:1") is None for _ in range(3)] == [True, True, False]
        assert USER_WRITES.hit("user:1") == 50  # seconds left in the minute
    with time_machine.travel(datetime(2026, 11, 20, 9, 1, 5, tzinfo=UTC), tick=False):
        assert USER_WRITES.hit("user:1") is None
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, 59, tzinfo=UTC), tick=False):
        # A server whose clock is behind: counted in the newer window, not a reset of it.
        assert USER_WRITES.hit("user:1") is None
        assert USER_WRITES.hit("user:1") is not None


@pytest.mark.django_db
def test_redis_counts_and_expires_its_keys(settings):
    settings.THROTTLE_COUNTER_STORE = "redis"
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": TEST_REDIS_URL}}
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    settings.AUTH_THROTTLE_RATE = "2/hour"
    assert [PASSWORD_CHECKS.hit("account:a@example.com") is None for _ in range(3)] == [True, True, False]
    (key,) = redis.Redis.from_url(TEST_REDIS_URL).keys("*throttle:password:*")
    assert 0 < redis.Redis.from_url(TEST_REDIS_URL).ttl(key) <= 3601
    assert not ThrottleCounter.objects.exists()


@pytest.mark.django_db
def test_when_redis_is_down_the_database_counts_instead_of_letting_everything_through(settings):
    settings.THROTTLE_COUNTER_STORE = "redis"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "IGNORE_EXCEPTIONS": True},
        }
    }
    settings.AUTH_THROTTLE_RATE = "2/hour"
    assert [PASSWORD_CHECKS.hit("account:a@example.com") is None for _ in range(3)] == [True, True, False]
    assert ThrottleCounter.objects.get().count == 3


@pytest.mark.django_db
def test_the_purge_command_deletes_counters_whose_window_has_ended(settings):
    settings.THROTTLE_COUNTER_STORE = "database"
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=UTC), tick=False):
        USER_WRITES.hit("user:1")
    USER_WRITES.hit("user:2")
    call_command("purge_throttle_counters")
    assert ThrottleCounter.objects.count() == 1


# --- the read, write and export limits -------------------------------------------------------


@pytest.mark.django_db
def test_authenticated_writes_are_limited_per_user(alice_client, bob_client, settings):
    settings.USER_WRITE_THROTTLE_RATE = "3/minute"
    codes = [alice_client.post(path).status_code for path in (START, STOP, START, STOP)]
    assert codes == [201, 200, 201, 429]
    refused = alice_client.post(STOP)
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert alice_client.get("/api/sessions/active/").status_code == 200  # reads are not writes
    assert bob_client.post(START).status_code == 201  # per user


@pytest.mark.django_db
def test_the_write_limit_can_be_turned_off(alice_client, settings):
    settings.USER_WRITE_THROTTLE_RATE = None
    codes = {alice_client.post(path).status_code for path in (START, STOP) * 10}
    assert codes == {200, 201}


@pytest.mark.django_db
def test_authenticated_reads_are_limited_per_user(alice_client, bob_client, client, settings):
    settings.USER_READ_THROTTLE_RATE = "3/minute"
    with at(0):
        codes = [alice_client.get(path).status_code for path in ("/api/sync/", ME, "/api/journals/")]
        refused = alice_client.get("/api/sync/", {"limit": 500})  # a full sync is a read like any other
        assert alice_client.post(START).status_code == 201  # writes are not reads
        assert bob_client.get(ME).status_code == 200  # per user
        assert client.get("/api/health/").status_code == 200  # nor is a public read counted
    assert codes == [200, 200, 200]
    assert (refused.status_code, refused.json()["code"]) == (429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 60
    with at(1):  # the next window
        assert alice_client.get(ME).status_code == 200


@pytest.mark.django_db
def test_a_refused_request_writes_no_log_line(alice_client, settings, caplog):
    """A client over its limit retries as fast as it can: one warning per refusal would flood
    the log. Other client errors are still logged."""
    settings.USER_READ_THROTTLE_RATE = "1/minute"
    with at(0):
        alice_client.get(ME)
        assert alice_client.get(ME).status_code == 429
        assert alice_client.delete("/api/journals/999/").status_code == 404  # not a read
    logged = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert logged == ["Not Found: /api/journals/999/"]


@pytest.mark.django_db
def test_the_read_limit_defaults_to_1200_a_minute_and_can_be_turned_off(alice_client, settings):
    assert USER_READS.rate() == (1200, 60)
    settings.USER_READ_THROTTLE_RATE = None
    assert {alice_client.get(ME).status_code for _ in range(30)} == {200}


@pytest.mark.django_db
def test_the_export_is_limited_per_user(alice_client, bob_client, settings):
    settings.EXPORT_THROTTLE_RATE = "2/hour"
    for _ in range(2):  # each read to the end: a stream left open keeps its transaction open
        assert streamed_json(alice_client.get(EXPORT))["user"]["email"] == "alice@example.com"
    assert alice_client.get(EXPORT).status_code == 429
    assert streamed_json(bob_client.get(EXPORT))["user"]["email"] == "bob@example.com"


# --- the schema -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_a_429_on_every_rate_limited_operation_and_only_there(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    limited = {
        (path, method)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "429" in operation["responses"]
    }
    writes = {
        (path, method)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"} and {"jwtAuth": []} in operation.get("security", [])
    }
    assert writes  # every authenticated write...
    assert writes <= limited
    password_checks = {
        ("/api/users/login/", "post"),
        ("/api/users/register/", "post"),
        ("/api/users/me/password/", "post"),
        ("/api/users/me/", "delete"),
    }
    reads = {
        (path, method)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method == "get" and {"jwtAuth": []} in operation.get("security", [])
    }
    assert ("/api/sync/", "get") in reads
    recovery = {  # requests for mail, and codes checked (wrong ones count)
        ("/api/users/password/reset/", "post"),
        ("/api/users/password/reset/confirm/", "post"),
        ("/api/users/email/verify/", "post"),
        ("/api/users/email/change/confirm/", "post"),
    }
    assert limited == writes | reads | password_checks | recovery
    login = paths["/api/users/login/"]["post"]["responses"]["429"]["description"]
    assert "password attempts" in login
    assert "Retry-After" in login
