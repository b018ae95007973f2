"""Shared fixtures: the alice/bob/charlie personas, API clients, and a real gunicorn server."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import redis
import requests
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client
from playwright.sync_api import sync_playwright
from rest_framework.test import APIClient

from deploy.check.procs import free_port
from deploy.check.stack import events_command
from focusflow.testing import TEST_REDIS_URL, SchemaConformance, UserClient
from users.tests.factories import PASSWORD, UserFactory

BASE_DIR = Path(__file__).resolve().parent
DEADLOCK_DETECTED = "40P01"


def pytest_configure(config):
    """One clear line instead of a traceback per test when PostgreSQL is not there."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "focusflow.db.backend":
        raise pytest.UsageError(f"The test suite runs on PostgreSQL; DATABASE_URL points at {db['ENGINE']}.")
    try:
        psycopg2.connect(
            dbname="postgres",
            user=db["USER"],
            password=db["PASSWORD"],
            host=db["HOST"],
            port=db["PORT"] or 5432,
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise pytest.UsageError(
            f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432} ({reason}). "
            "Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or set DATABASE_URL=postgres://user@host:port/focusflow."
        ) from None


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    # Argon2 is deliberately slow; the suite checks behaviour, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # One process: rate-limit counts in the (cleared) local cache, so that query counts are
    # those of the request itself. The shared stores have tests of their own (test_throttling).
    settings.THROTTLE_COUNTER_STORE = "memory"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _flush_outlasts_deadlocks():
    """A transactional test ends with a TRUNCATE of every table, in an order that changes from
    run to run. A server process of the test may still be reading two of them in one statement
    (a stream's heartbeat reads the account and its revoked logins): each then holds a table the
    other waits for, and PostgreSQL ends the TRUNCATE as the deadlock's victim. Flushing again
    finds the reader gone."""
    operations = type(connection.ops)
    flush = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(1, 6):
            try:
                return flush(self, sql_list)
            except OperationalError as exc:
                if attempt == 5 or getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
                    raise

    operations.execute_sql_flush = execute_sql_flush
    yield
    operations.execute_sql_flush = flush


@pytest.fixture(scope="session")
def schema_conformance() -> SchemaConformance:
    return SchemaConformance.of_served_schema()


@pytest.fixture(autouse=True)
def _answers_are_declared_by_the_schema(monkeypatch, schema_conformance):
    """Every API answer a test sees has a status and a shape its operation declares: client
    developers generate their code from the schema."""
    request = Client.request

    def checked_request(self, **environ):
        response = request(self, **environ)
        schema_conformance.check(environ["REQUEST_METHOD"], environ["PATH_INFO"], response)
        return response

    monkeypatch.setattr(Client, "request", checked_request)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", display_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", display_name="Bob")


@pytest.fixture
def charlie(db):
    return UserFactory(email="charlie@example.com", display_name="Charlie")


@pytest.fixture
def client_for(db):
    """`client_for(alice)`: an API client that authenticates as alice with a real JWT."""
    return UserClient


@pytest.fixture
def alice_client(client_for, alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_client(client_for, bob) -> APIClient:
    return client_for(bob)


@pytest.fixture(scope="session")
def live_server_env(django_db_setup, django_db_blocker) -> dict[str, str]:
    """Environment for a server process that shares the test database, and its Redis emptied:
    the database is new each run, so user ids come again, and an account state cached by a
    run a minute ago (users.auth_state) would be taken for the new user's."""
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.JWT_SIGNING_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "REDIS_URL": TEST_REDIS_URL,
        "AUTH_THROTTLE_RATE": "off",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


class LiveServer:
    """gunicorn (the web process) on a free port, or, with `events=True`, uvicorn (an events
    process) exactly as its systemd unit runs it."""

    def __init__(self, env: dict[str, str], workers: int = 4, *, events: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if events:
            command = events_command(self.port)
        else:
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                "focusflow.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                # gunicorn 27 opens a control socket at one default path shared by every
                # instance; several test servers (and other checkouts) would fight over it.
                "--no-control-socket",
            ]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env)
        try:
            self._wait_until_healthy(timeout=30)
        except BaseException:
            self.stop()
            raise

    def _wait_until_healthy(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/api/health/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def start_live_server(live_server_env):
    """`start_live_server(**env)`: gunicorn with 4 workers on the test database;
    `start_live_server(events=True)`: uvicorn."""
    servers: list[LiveServer] = []

    def start(workers: int = 4, *, events: bool = False, **env: str) -> LiveServer:
        server = LiveServer({**live_server_env, **env}, workers=workers, events=events)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def gunicorn(start_live_server) -> LiveServer:
    """One shared gunicorn (4 workers). Tests using it need django_db(transaction=True)."""
    return start_live_server()


class WorkerProcess:
    """`python manage.py worker` on the test database: the real worker, as deployed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=BASE_DIR, env=env)

    def kill(self) -> None:
        """SIGKILL: no chance to finish or hand back what it is doing."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(live_server_env, transactional_db):
    """`start_worker(**env)`: a worker process on the test database, with an empty queue to
    begin with (a job left by an earlier test must not run in this one)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_periodic_defers, procrastinate_workers CASCADE"
        )
    workers: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess({**live_server_env, "DJANGO_LOG_LEVEL": "INFO", **env})
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright, for one test module."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def smtp_sink():
    """A real SMTP server on a free loopback port (deploy/check/smtp_sink.py)."""
    from deploy.check.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def redis_cache(settings):
    """The Django cache on a real Redis, as with several app servers."""
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": TEST_REDIS_URL,
            "KEY_PREFIX": "focusflow",
        }
    }
    yield client
    client.flushdb()
