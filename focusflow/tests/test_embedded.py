"""The embedded PostgreSQL of local runs (focusflow/db/embedded.py), with the real package and
a real server in a temporary project folder: no Django database, no `db` fixture. About 3 s."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg2
import pytest

from focusflow.db import embedded

PROJECT_ROOT = Path(embedded.__file__).parents[2]  # where `python -m focusflow...` imports from


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    yield project
    embedded.stop(project)


def postmaster(project: Path) -> psutil.Process:
    pid = int((project / ".pgdata" / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


def gone(process: psutil.Process) -> bool:
    # A killed or stopped postmaster may linger as a zombie where nothing reaps orphans (containers).
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_starts_with_btree_gist_and_full_text_search(project):
    url = embedded.database_url(project)

    assert url.startswith("postgres://postgres@%2F") and url.endswith(":5432/focusflow")
    connection = psycopg2.connect(url)
    connection.autocommit = True  # the refused insert below must not roll back the table
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        cursor.execute(
            "CREATE TABLE slot (user_id bigint, a timestamptz, b timestamptz, body text,"
            " search tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,"
            " EXCLUDE USING gist (user_id WITH =, tstzrange(a, b) WITH &&))"
        )
        cursor.execute("CREATE INDEX ON slot USING gin (search)")
        cursor.execute("INSERT INTO slot VALUES (1, '2026-01-01 09:00Z', '2026-01-01 10:00Z', 'reports')")
        with pytest.raises(psycopg2.errors.ExclusionViolation):
            cursor.execute("INSERT INTO slot VALUES (1, '2026-01-01 09:30Z', '2026-01-01 11:00Z', '')")
    connection.close()
    # Unix socket only: nothing listens on TCP (the suite's PostgreSQL keeps 127.0.0.1:5432).
    assert postmaster(project).net_connections(kind="inet") == []


def test_a_second_process_reuses_the_running_server(project):
    pid = postmaster(project).pid

    done = subprocess.run(
        [sys.executable, "-m", "focusflow.db.embedded", "url", str(project)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )

    assert done.stdout.strip() == embedded.database_url(project)
    assert done.stderr == ""  # "started ..." is only said by the process that started it
    assert postmaster(project).pid == pid


def test_stop_then_start_again_keeps_the_data(project):
    server = postmaster(project)

    embedded.stop(project)
    embedded.stop(project)  # stopping a stopped server is fine

    assert gone(server)
    with psycopg2.connect(embedded.database_url(project)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM slot")
        assert cursor.fetchone() == (1,)
    connection.close()


def test_recovers_after_the_server_was_killed(project):
    server = postmaster(project)

    server.send_signal(signal.SIGKILL)  # a crash: postmaster.pid stays behind
    deadline = time.monotonic() + 5
    while not gone(server) and time.monotonic() < deadline:  # signals are not delivered at once
        time.sleep(0.01)
    url = embedded.database_url(project)

    assert postmaster(project).pid != server.pid
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM slot")
        assert cursor.fetchone() == (1,)
    connection.close()


def test_a_stale_pid_file_naming_another_live_process_is_not_a_server(project):
    embedded.stop(project)
    # After a reboot the recorded pid may belong to any program; this test process will do.
    (project / ".pgdata" / "postmaster.pid").write_text(f"{os.getpid()}\n{project / '.pgdata'}\n")

    with psycopg2.connect(embedded.database_url(project)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close()
    assert postmaster(project).pid != os.getpid()
