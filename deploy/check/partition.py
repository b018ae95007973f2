"""A silent network partition between the app and PostgreSQL: packets dropped, no reset.

A TCP proxy cannot fake this (its kernel still acknowledges everything), so a throwaway
PostgreSQL server of this check's own runs in a network namespace, reached over a veth link,
and the link is taken down. With focusflow.db.options's options, on the app's side a query in
flight and a new connection must fail within DB_CONNECT_TIMEOUT (+1 s), where plain libpq
waits for the kernel's retransmissions, about 15 minutes; on the server's side the
transaction of the vanished client must end as quickly, releasing its locks, where the
server would otherwise hold them until its own keepalives gave up, about 2 hours.

Needs root, iproute2 (`ip netns`) and PostgreSQL's server binaries; it adds a veth pair, a
namespace and a temporary data directory for a few seconds and removes them whatever
happens.
"""

import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

LOCK_KEY = 7_133_013  # an advisory lock of this check's own
PORT = 5432  # inside the namespace: nothing else listens there


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def available() -> str | None:
    """None when the check can run here, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    if _bin("initdb") is None or shutil.which("runuser") is None:
        return "needs PostgreSQL's server binaries and runuser"
    return None


def ip(*args: str, namespace: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, "ip", *args], check=True, capture_output=True)


def run(*, timeout: int) -> dict:
    import psycopg  # the app's driver, as Django uses it (the probe inside the namespace: psycopg2)

    from focusflow.db.options import outage_safe_options

    tag = f"ff{os.getpid() % 100000}"
    namespace, host_link, ns_link = f"{tag}ns", f"{tag}h", f"{tag}n"
    subnet = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}"
    host_ip, ns_ip = f"{subnet}.1", f"{subnet}.2"
    data = tempfile.mkdtemp(prefix="focusflow-partition-")
    shutil.chown(data, "postgres", "postgres")
    server: subprocess.Popen | None = None
    figures: dict = {}
    try:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", _bin("initdb"), "-D", data, "-U", "postgres"]
            + ["--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        with open(os.path.join(data, "pg_hba.conf"), "a") as hba:
            hba.write(f"host all all {host_ip}/32 trust\n")
        ip("netns", "add", namespace)
        ip("link", "add", host_link, "type", "veth", "peer", "name", ns_link)
        ip("link", "set", ns_link, "netns", namespace)
        ip("addr", "add", f"{host_ip}/30", "dev", host_link)
        ip("link", "set", host_link, "up")
        ip("addr", "add", f"{ns_ip}/30", "dev", ns_link, namespace=namespace)
        ip("link", "set", ns_link, "up", namespace=namespace)
        ip("link", "set", "lo", "up", namespace=namespace)
        server = subprocess.Popen(
            ["ip", "netns", "exec", namespace, "runuser", "-u", "postgres", "--", _bin("postgres")]
            + ["-D", data, "-p", str(PORT), "-c", f"listen_addresses={ns_ip}"]
            + ["-c", f"unix_socket_directories={data}", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        options = outage_safe_options(timeout=timeout, options={})

        def connect():
            return psycopg.connect(host=ns_ip, port=PORT, dbname="postgres", user="postgres", **options)

        def link(state: str) -> None:
            ip("link", "set", ns_link, state, namespace=namespace)

        def connect_when_ready():
            for _ in range(100):
                try:
                    return connect()
                except psycopg.OperationalError:
                    time.sleep(0.2)  # starting, or neighbour discovery after the link is up
            raise RuntimeError("the namespace's PostgreSQL never answered")

        # 1. A query in flight when the network goes.
        connection = connect_when_ready()
        cursor = connection.cursor()
        threading.Timer(0.5, link, args=("down",)).start()
        started = time.monotonic()
        try:
            cursor.execute("SELECT pg_sleep(2)")
            figures["query_in_flight"] = "finished (the link went down too late?)"
        except psycopg.Error as exc:
            figures["query_in_flight_failed_after_s"] = round(time.monotonic() - started - 0.5, 1)
            figures["query_error"] = str(exc).strip().splitlines()[0]
        connection.close()

        # 2. A new connection while it is gone.
        started = time.monotonic()
        try:
            connect().close()
            figures["new_connection"] = "connected during the partition?"
        except psycopg.Error:
            figures["new_connection_failed_after_s"] = round(time.monotonic() - started, 1)

        # 3. Back: connections work again.
        link("up")
        orphan = connect_when_ready()
        figures["reconnects_after_the_link_is_back"] = True

        # 4. The server's side: a transaction whose client vanished holds its locks until the
        # server notices; asked from inside the namespace, over the server's own socket.
        orphan.cursor().execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        link("down")
        started = time.monotonic()
        probe = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _WAIT_FOR_THE_LOCK, data, str(LOCK_KEY)],
            capture_output=True,
            text=True,
            timeout=90,
        )
        if probe.returncode == 0:
            figures["orphaned_transaction_rolled_back_after_s"] = round(time.monotonic() - started, 1)
        else:
            figures["orphaned_transaction"] = probe.stderr.strip()[-300:] or "still holding its lock"
        link("up")
        return figures
    finally:
        if server is not None:
            _stop_postgres(data)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        subprocess.run(["ip", "link", "del", host_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def _stop_postgres(data: str) -> None:
    """A fast shutdown of the server this check started, by the pid it wrote."""
    try:
        with open(os.path.join(data, "postmaster.pid")) as pid_file:
            pid = int(pid_file.readline())
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError):
        pass


# Runs inside the namespace: waits (up to 60 s) until the advisory lock is free.
_WAIT_FOR_THE_LOCK = """
import sys, time
import psycopg2
connection = psycopg2.connect(host=sys.argv[1], port=5432, dbname="postgres", user="postgres")
connection.autocommit = True
cursor = connection.cursor()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    cursor.execute("SELECT pg_try_advisory_lock(%s)", [int(sys.argv[2])])
    if cursor.fetchone()[0]:
        sys.exit(0)
    time.sleep(0.05)
sys.exit("still locked after 60 s")
"""
