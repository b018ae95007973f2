"""The database cut away under gunicorn, for real: gunicorn reaches PostgreSQL through a TCP
proxy that the test controls, so the cut touches nobody else's connections.

Every /api/ request answers 503 `database_unavailable` with Retry-After while the database is
gone, whether it refuses connections, swallows them (the connect timeout has to end the wait),
or drops a connection in the middle of a request; nothing is half-written; and the same worker
processes answer normally again as soon as it is back (within the second a worker waits
before it tries to connect again). Requests carry a client timeout a few seconds
above DB_CONNECT_TIMEOUT, so a hang fails the test; `make deploy-test` measures the times.
"""

import threading
import time

import psycopg2
import pytest
import requests
from django.conf import settings

from deploy.check.procs import child_pids
from deploy.check.tcp_proxy import TcpProxy
from focus_sessions.models import FocusSession
from focusflow.testing import bearer
from focusflow.tests.db_outage import wait_for_a_backend_waiting_on_a_lock
from journals.models import Journal
from quotes.tests.factories import QuoteFactory
from users.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CONNECT_TIMEOUT = 2
HANG_GUARD = CONNECT_TIMEOUT + 8  # seconds; a request still unanswered by then is a hang

OUTAGE = {
    "detail": "The database cannot be reached right now; retry in a few seconds.",
    "code": "database_unavailable",
}


@pytest.fixture(scope="module")
def db_proxy(django_db_setup):
    db = settings.DATABASES["default"]
    with TcpProxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def server(start_live_server, live_server_env, db_proxy):
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    server = start_live_server(
        workers=2,
        DATABASE_URL=f"postgres://{auth}@127.0.0.1:{db_proxy.port}/{db['NAME']}",
        DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        DB_CONN_MAX_AGE="600",  # keep connections open, so the cut has some to break
    )
    yield server
    server.stop()


@pytest.fixture
def proxy(db_proxy):
    yield db_proxy
    db_proxy.restore()


def worker_pids(server) -> set[int]:
    return child_pids(server.process.pid)


def call(server, method: str, path: str, *, user=None, body=None, headers=None) -> requests.Response:
    headers = dict(headers or {})
    if user is not None:
        headers["Authorization"] = bearer(user)
    return requests.request(method, server.url + path, json=body, headers=headers, timeout=HANG_GUARD)


def assert_outage(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == OUTAGE
    assert int(response.headers["Retry-After"]) > 0


def warm_up(server, user) -> None:
    """Every worker has a database connection open through the proxy, the user's login is in
    the shared authentication cache and the day's quote in the shared cache: a request for the
    quote then needs the database for nothing, and must still find out that it is gone."""
    QuoteFactory()
    recover(server, user)  # also from a previous test's cut
    assert call(server, "GET", "/api/quotes/today/", user=user).status_code == 200


def every_kind_of_request(user) -> list[tuple[str, str, dict]]:
    return [
        ("GET", "/api/users/me/", {"user": user}),
        ("GET", "/api/sessions/history/", {"user": user}),
        ("GET", "/api/journals/?search=focus", {"user": user}),
        ("GET", "/api/quotes/today/", {"user": user}),
        ("POST", "/api/sessions/start/", {"user": user, "body": {"label": "cut"}}),
        ("POST", "/api/sessions/start/", {"user": user, "headers": {"Idempotency-Key": "k1"}}),
        ("POST", "/api/journals/create/", {"user": user, "body": {"content": "lost?"}}),
        ("PATCH", "/api/users/me/", {"user": user, "body": {"display_name": "Cut"}}),
        ("POST", "/api/users/login/", {"body": {"email": user.email, "password": PASSWORD}}),
        (
            "POST",
            "/api/users/register/",
            {"body": {"email": "new@example.com", "password": "long-pass-1234"}},
        ),
    ]


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_a_cut_database_is_a_503_everywhere_and_the_same_workers_recover(server, proxy, mode):
    user = UserFactory(display_name="Before")
    warm_up(server, user)
    workers = worker_pids(server)

    proxy.cut(mode)
    for method, path, kwargs in every_kind_of_request(user):
        assert_outage(call(server, method, path, **kwargs))
    health = call(server, "GET", "/api/health/")
    assert (health.status_code, health.json()) == (503, {"status": "error", "database": "unreachable"})

    proxy.restore()
    recover(server, user)
    assert worker_pids(server) == workers  # no restart: the same processes reconnected
    user.refresh_from_db()
    assert user.display_name == "Before"
    assert not FocusSession.objects.filter(user=user).exists()
    assert not Journal.objects.filter(user=user).exists()
    assert not type(user).objects.filter(email="new@example.com").exists()
    retried = call(server, "POST", "/api/sessions/start/", user=user, headers={"Idempotency-Key": "k1"})
    assert retried.status_code == 201  # the refused attempt stored nothing to replay


def recover(server, user) -> None:
    """Every worker answers normally again: a dozen successes in a row. It takes about a
    second, as each worker process tries to connect at most once a second after a failure
    (focusflow.db.options)."""
    in_a_row = 0
    for _ in range(HANG_GUARD * 20):
        in_a_row = in_a_row + 1 if call(server, "GET", "/api/users/me/", user=user).status_code == 200 else 0
        if in_a_row == 12:
            return
        time.sleep(0.05)
    raise AssertionError("the server did not recover")


def test_a_connection_lost_mid_request_is_a_503_and_a_keyed_retry_writes_once(server, proxy):
    user = UserFactory()
    warm_up(server, user)
    workers = worker_pids(server)
    db = settings.DATABASES["default"]
    holder = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    )
    answers: list[requests.Response] = []
    key = {"Idempotency-Key": "mid-request"}
    try:
        with holder.cursor() as cursor:
            # The request gets as far as the sessions table, inside the idempotency record's
            # transaction, and waits there: that is when the connection is cut.
            cursor.execute("LOCK TABLE focus_sessions_focussession IN ACCESS EXCLUSIVE MODE")
            request = threading.Thread(
                target=lambda: answers.append(
                    call(server, "POST", "/api/sessions/start/", user=user, body={"label": "x"}, headers=key)
                )
            )
            request.start()
            wait_for_a_backend_waiting_on_a_lock(cursor)
            proxy.cut("refuse")
            request.join(timeout=HANG_GUARD + 5)
    finally:
        holder.rollback()  # the orphaned server backend now finds its client gone and rolls back
        holder.close()
    assert len(answers) == 1, "the request hung"
    assert_outage(answers[0])

    proxy.restore()
    recover(server, user)
    retried = call(server, "POST", "/api/sessions/start/", user=user, body={"label": "x"}, headers=key)
    again = call(server, "POST", "/api/sessions/start/", user=user, body={"label": "x"}, headers=key)
    assert retried.status_code == 201, retried.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert FocusSession.objects.filter(user=user).count() == 1
    assert worker_pids(server) == workers
