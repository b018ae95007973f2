"""The database out of reach: 503 `database_unavailable` with Retry-After, never a 500.

Here the database is taken away from this process for real (its connection points at a port
where nothing listens); test_outage_live.py cuts it under gunicorn, mid-request too."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InternalError,
    OperationalError,
    ProgrammingError,
    connection,
    connections,
    transaction,
)
from django.test import Client

from focus_sessions.models import FocusSession
from focusflow.db.backend.base import RETRY_CONNECT_AFTER_SECONDS, DatabaseWrapper
from focusflow.db.options import outage_safe_options
from focusflow.db.outage import RETRY_AFTER_SECONDS, is_database_outage
from focusflow.tests.db_outage import cut_database, restore_database
from journals import selectors as journal_selectors
from users.tokens import refresh_token_for

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = {
    "detail": "The database cannot be reached right now; retry in a few seconds.",
    "code": "database_unavailable",
}


@pytest.fixture
def database_down():
    cut_database()
    yield
    restore_database()


@pytest.fixture
def restores_database():
    yield
    restore_database()


def assert_outage_answer(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == OUTAGE
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/users/me/", None),
        ("get", "/api/sessions/active/", None),
        ("get", "/api/sessions/history/", None),
        ("get", "/api/sessions/stats/", None),
        ("post", "/api/sessions/start/", {"label": "deep work"}),
        ("post", "/api/sessions/stop/", None),
        ("post", "/api/journals/create/", {"content": "a thought"}),
        ("get", "/api/journals/", None),
        ("get", "/api/quotes/today/", None),
        ("get", "/api/users/me/export/", None),
    ],
)
def test_an_authenticated_request_is_a_503_when_the_database_is_gone(
    alice_client, database_down, method, path, body
):
    # Authentication is what needs the database first: it loads the user of the token.
    assert_outage_answer(getattr(alice_client, method)(path, body))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/users/login/", {"email": "alice@example.com", "password": "whatever-it-is"}),
        ("/api/users/register/", {"email": "new@example.com", "password": "a-long-passphrase"}),
    ],
)
def test_the_open_endpoints_are_a_503_too(api_client, alice, database_down, path, body):
    assert_outage_answer(api_client.post(path, body))


def test_a_token_refresh_is_a_503_not_a_401(api_client, alice):
    refresh = str(refresh_token_for(alice))
    cut_database()
    try:
        response = api_client.post("/api/users/token/refresh/", {"refresh": refresh})
    finally:
        restore_database()
    assert_outage_answer(response)
    # Nothing was used up: the same token still works.
    assert api_client.post("/api/users/token/refresh/", {"refresh": refresh}).status_code == 200


def test_a_keyed_write_refused_in_an_outage_runs_afresh_when_retried(alice_client, alice):
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-1"}
    cut_database()
    try:
        assert_outage_answer(alice_client.post("/api/sessions/start/", {"label": "x"}, **headers))
    finally:
        restore_database()
    retried = alice_client.post("/api/sessions/start/", {"label": "x"}, **headers)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert FocusSession.objects.filter(user=alice).count() == 1


def test_the_same_process_answers_normally_once_the_database_is_back(alice_client):
    cut_database()
    try:
        assert_outage_answer(alice_client.get("/api/users/me/"))
    finally:
        restore_database()
    assert alice_client.get("/api/users/me/").status_code == 200


def test_a_journal_search_in_an_outage_is_not_mistaken_for_a_bad_search(alice, database_down):
    # The search backstop turns PostgreSQL's refusal of a query into a 400; an outage is not that.
    with pytest.raises(OperationalError):
        list(journal_selectors.journal_list(user=alice, search="focus"))


def test_the_admin_shows_a_503_page_not_a_500(admin_client, database_down):
    response = admin_client.get("/admin/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Service unavailable" in response.content.decode()


@pytest.mark.urls("focusflow.tests.outage_urls")
@pytest.mark.parametrize("path", ["/admin-ish/", "/api/middleware-ish/"])
def test_an_outage_met_by_a_middleware_is_a_503_too(path, restores_database, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "focusflow.tests.outage_urls.QueriesOnTheWayOut"]
    client = Client(raise_request_exception=False)
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    if path.startswith("/api/"):
        assert response.json() == OUTAGE
    else:
        assert "Service unavailable" in response.content.decode()


def _error_of(sql: str, *, in_transaction: bool = False) -> DatabaseError:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if in_transaction:
                cursor.execute("SET LOCAL statement_timeout = 10")
            cursor.execute(sql)
    except DatabaseError as exc:
        return exc
    raise AssertionError(f"{sql} did not fail")


def test_errors_that_mean_the_database_is_out_of_reach_are_told_apart_from_bad_queries(alice):
    assert is_database_outage(_error_of("SELECT pg_sleep(1)", in_transaction=True))  # statement timeout
    # A backend ended under the connection (a restart, a failover): 57P01, then a dead connection.
    with pytest.raises(OperationalError) as terminated:
        connection.cursor().execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert is_database_outage(terminated.value)
    # psycopg 3: an OperationalError without SQLSTATE (psycopg2: an InterfaceError, not a
    # DatabaseError but a sibling).
    with pytest.raises(Error) as dead:
        connection.cursor().execute("SELECT 1")
    assert is_database_outage(dead.value)
    connection.close()

    cut_database()
    try:
        with pytest.raises(OperationalError) as refused:
            connection.ensure_connection()
        assert is_database_outage(refused.value)
    finally:
        restore_database()

    bad_queries = [
        (_error_of("SELEKT 1"), ProgrammingError),
        (_error_of("SELECT 1 / 0"), DataError),
        (_error_of("SELECT websearch_to_tsquery('english', 'a " + "-!-" * 60 + " b')"), InternalError),
        (
            _error_of(f"INSERT INTO users_user (id, password, email) SELECT {alice.pk}, '', 'x'"),
            IntegrityError,
        ),
    ]
    for error, kind in bad_queries:
        assert isinstance(error, kind)
        assert not is_database_outage(error), error


def test_the_schema_documents_the_503_on_every_operation(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        response = operation["responses"].get("503")
        assert response, f"{method} {path}"
        if path != "/api/health/":
            assert "Retry-After" in response["headers"]
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/DatabaseUnavailableError")
    code = schema["components"]["schemas"]["DatabaseUnavailableError"]["properties"]["code"]
    assert code["enum"] == ["database_unavailable"]


def test_connections_are_bounded_in_time_on_both_sides(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    timeout = options["connect_timeout"]
    assert options["keepalives"] == 1
    assert options["tcp_user_timeout"] == timeout * 1000
    with connection.cursor() as cursor:
        cursor.execute("SHOW tcp_user_timeout")
        assert cursor.fetchone()[0] == str(timeout * 1000)
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "1min"


def test_django_connects_through_the_project_engine():
    assert isinstance(connections["default"], DatabaseWrapper)
    assert settings.DATABASES["default"]["ENGINE"] == "focusflow.db.backend"


def _connection_attempt(port: int) -> OperationalError | None:
    """A connection attempt of its own, as another thread of the process would make."""
    options = {**connection.settings_dict["OPTIONS"], "connect_timeout": 2}
    wrapper = DatabaseWrapper(
        {**connection.settings_dict, "PORT": str(port), "NAME": "x", "USER": "y", "OPTIONS": options}
    )
    try:
        wrapper.ensure_connection()
    except OperationalError as exc:  # Django's, as for any failed connection attempt
        return exc
    finally:
        wrapper.close()
    return None


def test_after_a_failed_connection_attempt_the_next_ones_wait_a_moment_before_trying_again():
    db = settings.DATABASES["default"]
    refused = _connection_attempt(1)
    assert "refused" in str(refused)
    held_back = _connection_attempt(1)
    assert str(held_back).startswith("database unavailable: the last connection attempt failed")
    assert is_database_outage(held_back)  # the same 503 as a refused connection
    # Another database (here: the same server on its real port) is not held back.
    assert "refused" not in str(_connection_attempt(int(db["PORT"] or 5432)))
    time.sleep(RETRY_CONNECT_AFTER_SECONDS + 0.1)
    assert "refused" in str(_connection_attempt(1))  # a real attempt again


def test_while_one_attempt_finds_out_whether_the_database_is_back_the_others_fail_at_once():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    assert "refused" in str(_connection_attempt(port))
    time.sleep(RETRY_CONNECT_AFTER_SECONDS + 0.1)
    # Now a server that lets the next attempt in and never answers it.
    with ThreadPoolExecutor(1) as pool, socket.create_server(("127.0.0.1", port)) as server:
        server.settimeout(5)
        probe = pool.submit(_connection_attempt, port)
        held, _ = server.accept()  # the probing attempt is waiting for the server's answer
        with held:
            held_back = _connection_attempt(port)
            assert str(held_back).startswith("database unavailable: the last connection attempt failed")
            server.close()  # nothing listens any more: the probe fails when its connection ends
        assert probe.result(timeout=5) is not None
    assert str(_connection_attempt(port)).startswith("database unavailable")  # the probe failed: wait again


def test_options_in_the_database_url_win_but_the_connect_timeout_comes_from_its_variable():
    options = outage_safe_options(
        timeout=4, options={"options": "-c idle_in_transaction_session_timeout=0", "connect_timeout": 30}
    )
    assert options["connect_timeout"] == 4
    assert options["tcp_user_timeout"] == 4000
    # PostgreSQL applies the last -c of a setting: the URL's comes after ours.
    assert options["options"].endswith("-c idle_in_transaction_session_timeout=0")
    assert "-c idle_in_transaction_session_timeout=60000" in options["options"]
