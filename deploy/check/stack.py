"""The deploy test's production stack, on loopback and free ports, touching nothing shared:
its own PostgreSQL database, its own Redis database number, TCP proxies in front of both
(so the test can cut them away), gunicorn instances running
gunicorn.conf.py, Debian's nginx running deploy/nginx/focusflow.conf, and a worker
(`manage.py worker`) sending to a real SMTP server of its own (smtp_sink.py)."""

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from deploy.check.procs import alive, child_pids, free_port, rss_bytes
from deploy.check.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "focusflow.conf"
EVENTS_UNIT = ROOT / "deploy" / "systemd" / "focusflow-events@.service"
# The worker's mail settings in the deploy test (EMAIL_URL is its own SMTP server's).
APP_URL = "https://app.deploy-test.example"
FROM_EMAIL = "FocusFlow <no-reply@deploy-test.example>"


def http_status(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Seconds it took `condition()` to hold; RuntimeError after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{parts.hostname}:{port}"))


class Instance:
    """One gunicorn instance (arbiter and workers in a process group of their own)."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.access_log = workdir / f"{name}.access.log"
        self.error_log = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, **extra_env: str) -> None:
        env = {
            **self.env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": str(self.access_log),
            "GUNICORN_PROC_NAME": f"focusflow-deploy-test-{self.name}",
            **extra_env,
        }
        with open(self.error_log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "focusflow.wsgi", "-c", str(ROOT / "gunicorn.conf.py")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: kill or pause it whole
            )
        wait_until(self.healthy, timeout=60, what=f"gunicorn {self.name} answering")

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"gunicorn {self.name} exited; see {self.error_log}")
        return http_status(f"{self.url}/api/health/") == 200

    def workers(self) -> set[int]:
        return child_pids(self.process.pid) if self.process else set()

    def worker_rss(self) -> dict[int, int]:
        sizes = {pid: rss_bytes(pid) for pid in self.workers()}
        return {pid: size for pid, size in sizes.items() if size}

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def kill(self) -> tuple[float, float]:
        """A crash: SIGKILL to the arbiter and every worker at once. Returns when the signal
        was sent and when every process was gone (time.monotonic())."""
        workers = self.workers()
        sent = time.monotonic()
        self.signal_group(signal.SIGKILL)
        self.process.wait()
        wait_until(lambda: not any(map(alive, workers)), timeout=10, what="workers gone", interval=0.005)
        return sent, time.monotonic()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful shutdown
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait()

    def access_lines(self) -> int:
        try:
            with open(self.access_log, "rb") as log:
                return sum(1 for _ in log)
        except FileNotFoundError:
            return 0

    def access_log_text(self) -> str:
        try:
            return self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Worker:
    """One `manage.py worker` (procrastinate), as focusflow-worker@.service runs it, in a
    process group of its own."""

    def __init__(self, env: dict[str, str], workdir: Path, *, concurrency: int = 4) -> None:
        self.env = env
        self.concurrency = concurrency
        self.log = workdir / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        """Starts it and returns once it has sent its first heartbeat (seconds it took)."""
        from django.db import connection

        def newest_worker() -> int:
            with connection.cursor() as cursor:
                cursor.execute("SELECT coalesce(max(id), 0) FROM procrastinate_workers")
                return cursor.fetchone()[0]

        before = newest_worker()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--concurrency", str(self.concurrency)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

        def registered() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.process.returncode}); see {self.log}")
            return newest_worker() > before

        return wait_until(registered, timeout=60, what="the worker registered")

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss(self) -> int | None:
        return rss_bytes(self.process.pid) if self.process else None

    def stop(self, timeout: float = 40) -> tuple[float, int]:
        """SIGTERM (its graceful shutdown, as systemd stops it), SIGKILL to the group after
        `timeout`. Seconds it took, and its exit status."""
        started = time.monotonic()
        if not self.running():
            return 0.0, self.process.returncode if self.process else 0
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with_suppressed(lambda: os.killpg(self.process.pid, signal.SIGKILL))
            self.process.wait()
        return time.monotonic() - started, self.process.returncode


def events_command(port: int) -> list[str]:
    """An events process on `port`, exactly as deploy/systemd/focusflow-events@.service runs it
    (this interpreter's uvicorn)."""
    exec_start = next(
        line.split("=", 1)[1]
        for line in EVENTS_UNIT.read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    program, *arguments = exec_start.replace("%i", str(port)).split()
    if not program.endswith("/uvicorn"):
        raise RuntimeError(f"{EVENTS_UNIT.name}: ExecStart is not uvicorn: {exec_start}")
    return [sys.executable, "-m", "uvicorn", *arguments]


class EventsInstance:
    """One events process: uvicorn exactly as deploy/systemd/focusflow-events@.service runs it."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        exec_start = next(
            line.split("=", 1)[1]
            for line in EVENTS_UNIT.read_text().splitlines()
            if line.startswith("ExecStart=")
        )
        program, *arguments = exec_start.replace("%i", str(self.port)).split()
        if not program.endswith("/uvicorn"):
            raise RuntimeError(f"{EVENTS_UNIT.name}: ExecStart is not uvicorn: {exec_start}")
        return [sys.executable, "-m", "uvicorn", *arguments]

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        wait_until(self.healthy, timeout=60, what=f"uvicorn {self.name} answering")

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"uvicorn {self.name} exited; see {self.log}")
        return http_status(f"{self.url}/api/health/") == 200

    def rss(self) -> int:
        return rss_bytes(self.process.pid) or 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Stack:
    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        workdir: Path,
        instances: int = 2,
        workers: int = 2,
        threads: int = 4,
        connect_timeout: int = 3,
    ) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.workdir = workdir
        self.connect_timeout = connect_timeout
        self.proxy: subprocess.Popen | None = None
        self.proxy_port: int | None = None
        self.redis_proxy: subprocess.Popen | None = None
        self.redis_proxy_port: int | None = None
        self.nginx: subprocess.Popen | None = None
        self.nginx_port = free_port()
        self.url = f"http://127.0.0.1:{self.nginx_port}"
        self.secret_key = secrets.token_urlsafe(64)
        self.instance_count = instances
        self.workers = workers
        self.threads = threads
        self.instances: list[Instance] = []
        self.events: list[EventsInstance] = []
        self.smtp: SmtpSink | None = None
        self.worker: Worker | None = None

    # --- database and Django in this process ---------------------------------------------------

    def setup_django(self) -> None:
        os.environ.update(
            DATABASE_URL=self.database_url,
            DJANGO_SECRET_KEY=self.secret_key,
            DJANGO_DEBUG="0",
            DJANGO_HTTPS="0",
            DJANGO_LOG_LEVEL="WARNING",
            REDIS_URL=self.redis_url,
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusflow.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    def recreate_database(self) -> None:
        import psycopg2
        from psycopg2 import sql

        name = urlsplit(self.database_url).path.lstrip("/")
        admin = psycopg2.connect(with_db(self.database_url, "postgres"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.close()

    def drop_database(self, url: str | None = None) -> None:
        import psycopg2
        from psycopg2 import sql

        name = urlsplit(url or self.database_url).path.lstrip("/")
        admin = psycopg2.connect(with_db(self.database_url, "postgres"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()

    def prepare(self) -> None:
        """A fresh database, migrated, the shipped quotes loaded, static files collected."""
        from django.core.cache import cache
        from django.core.management import call_command

        self.recreate_database()
        call_command("migrate", verbosity=0)
        call_command("load_quotes", str(ROOT / "fixtures" / "quotes.json"), verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        cache.clear()  # this run's Redis database only

    # --- proxies in front of PostgreSQL and Redis --------------------------------------------

    def start_proxy(self) -> None:
        self.proxy, self.proxy_port = self._proxy(self.database_url, 5432)
        self.redis_proxy, self.redis_proxy_port = self._proxy(self.redis_url, 6379)

    @staticmethod
    def _proxy(url: str, default_port: int) -> tuple[subprocess.Popen, int]:
        upstream = urlsplit(url)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deploy.check.tcp_proxy",
                str(upstream.port or default_port),
                upstream.hostname or "127.0.0.1",
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        return process, int(process.stdout.readline())

    @staticmethod
    def _command(proxy: subprocess.Popen, mode: str) -> None:
        proxy.stdin.write(mode + "\n")
        proxy.stdin.flush()
        answer = proxy.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"proxy: {answer!r}")

    def database(self, mode: str) -> None:
        """`refuse` / `blackhole`: the app servers lose the database; `up`: it is back."""
        self._command(self.proxy, mode)

    def redis(self, mode: str) -> None:
        """The same for Redis."""
        self._command(self.redis_proxy, mode)

    # --- app servers ----------------------------------------------------------------------------

    def instance_env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_", "DB_"))}
        return {
            **keep,
            "DATABASE_URL": with_port(self.database_url, self.proxy_port),
            "DB_CONNECT_TIMEOUT": str(self.connect_timeout),
            "REDIS_URL": with_port(self.redis_url, self.redis_proxy_port),
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "DJANGO_NUM_PROXIES": "1",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LOG_LEVEL": "WARNING",
            "AUTH_THROTTLE_RATE": "20/minute",
            # The webhooks check's receiver listens on loopback over http (never set in production).
            "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_LOG_LEVEL": "warning",
        }

    def start_instances(self, **extra_env: str) -> None:
        if not self.instances:
            env = self.instance_env()
            self.instances = [Instance(f"app{i + 1}", env, self.workdir) for i in range(self.instance_count)]
        for instance in self.instances:
            instance.start(**extra_env)

    def stop_instances(self) -> None:
        for instance in self.instances:
            instance.stop()

    def start_events(self) -> None:
        """Two events processes (uvicorn) on the app servers' environment."""
        env = self.instance_env()
        self.events = [
            EventsInstance(f"events{i + 1}", env, self.workdir / f"events{i + 1}.log") for i in range(2)
        ]
        for instance in self.events:
            instance.start()

    # --- the worker and its mail server ------------------------------------------------------

    def start_worker(self) -> float:
        """An SMTP server on a free loopback port, and one worker on the app servers'
        environment sending to it; seconds until the worker was registered."""
        if self.smtp is None:
            self.smtp = SmtpSink().start()
        self.worker = Worker(
            {
                **self.instance_env(),
                "EMAIL_URL": self.smtp.url,
                "DEFAULT_FROM_EMAIL": FROM_EMAIL,
                "APP_URL": APP_URL,
            },
            self.workdir,
        )
        return self.worker.start()

    def smtp_up(self) -> None:
        """The SMTP server back on its port, if a check took it down."""
        if self.smtp is not None and not self.smtp.up:
            self.smtp.start()

    # --- nginx ----------------------------------------------------------------------------------

    def render_site(self) -> str:
        """The shipped site, with only its addresses and paths pointed at this stack."""
        site = SITE.read_text()
        for upstream, instances in (("focusflow_app", self.instances), ("focusflow_events", self.events)):
            block = re.search(rf"^upstream {upstream} {{\n(.*?)^}}", site, flags=re.M | re.S)
            if block is None:
                raise RuntimeError(f"deploy/nginx/focusflow.conf: upstream {upstream} not found")
            servers = re.findall(r"^ *server 127\.0\.0\.1:\d+ (.*);$", block.group(1), flags=re.M)
            if len(servers) < 2:
                raise RuntimeError(f"deploy/nginx/focusflow.conf: upstream {upstream}: servers not found")
            ours = "".join(f"    server 127.0.0.1:{i.port} {servers[0]};\n" for i in instances)
            body = re.sub(r"(^ *server 127\.0\.0\.1:\d+ .*;\n)+", ours, block.group(1), count=1, flags=re.M)
            site = site[: block.start(1)] + body + site[block.end(1) :]
        replacements = [
            ("    listen 80;\n", f"    listen 127.0.0.1:{self.nginx_port};\n"),
            ("    listen [::]:80;\n", ""),
            ("/srv/focusflow/staticfiles/", f"{ROOT}/staticfiles/"),
            ("/var/log/nginx/focusflow.error.log", str(self.workdir / "nginx.error.log")),
        ]
        for old, new in replacements:
            if site.count(old) != 1:
                raise RuntimeError(f"deploy/nginx/focusflow.conf: expected one {old.strip()!r}")
            site = site.replace(old, new)
        return site.replace("/var/log/nginx/focusflow.access.log", str(self.workdir / "nginx.access.log"))

    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        temp = self.workdir / "nginx-temp"
        temp.mkdir(exist_ok=True)
        (self.workdir / "focusflow.conf").write_text(self.render_site())
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.workdir / "nginx.conf").write_text(
            f"""{user}worker_processes 2;
pid {self.workdir}/nginx.pid;
error_log {self.workdir}/nginx.error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.workdir}/focusflow.conf;
}}
"""
        )
        command = [nginx, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")]
        check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.nginx = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        wait_until(lambda: http_status(f"{self.url}/api/health/") == 200, timeout=30, what="nginx answering")

    # --- all of it ------------------------------------------------------------------------------

    def close(self) -> None:
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(timeout=20)
        for instance in self.instances:
            if instance.process and instance.process.poll() is None:
                with_suppressed(lambda i=instance: i.signal_group(signal.SIGCONT))
                instance.stop()
        for events in self.events:
            events.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.smtp is not None:
            self.smtp.stop()
        for proxy in (self.proxy, self.redis_proxy):
            if proxy and proxy.poll() is None:
                proxy.stdin.close()
                try:
                    proxy.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proxy.kill()


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def with_suppressed(action) -> None:
    with contextlib.suppress(OSError):
        action()
