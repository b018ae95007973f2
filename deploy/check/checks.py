"""The deploy test's checks, each against the running stack, through nginx.

Each check returns its figures (printed at the end) and raises Failed when the deploy falls
short of what docs/operations.md promises.
"""

import os
import re
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploy.check.client import Client, Reply, raw_request
from deploy.check.load import LoadRun, percentile, summary
from deploy.check.stack import APP_URL, Stack, wait_until

PASSWORD = "deploy-test-passphrase-1"


class Failed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def expect_json_error(reply: Reply, status: int, code: str | None = None, what: str = "") -> None:
    expect(reply.status == status, f"{what}: expected {status}, got {reply.status} {reply.body[:300]!r}")
    expect(
        reply.is_json,
        f"{what}: expected a JSON body, got {reply.headers.get('content-type')} {reply.body[:200]!r}",
    )
    if code is not None:
        expect(reply.code == code, f"{what}: expected code {code!r}, got {reply.body[:300]!r}")


def create_accounts(prefix: str, count: int) -> list[tuple[str, str]]:
    """Accounts straight in the database, sharing one Argon2 hash (hashing is slow on purpose)."""
    from django.contrib.auth.hashers import make_password

    from users.models import User

    encoded = make_password(PASSWORD)
    emails = [f"{prefix}-{i}@deploy-test.example" for i in range(count)]
    User.objects.bulk_create([User(email=email, password=encoded, display_name=email) for email in emails])
    return [(email, PASSWORD) for email in emails]


# --- the shipped configuration files ----------------------------------------------------------


def deploy_files(stack: Stack, workdir: Path) -> dict:
    """The environment template reads the same in systemd and in the shell (the install
    procedure sources it), and, filled in, passes `manage.py check --deploy` with HTTPS on and
    `manage.py procrastinate healthchecks`. The units are the app server's and the worker's
    (no housekeeping timer: the worker runs that schedule) and the events processes'; the
    worker's and the events' stop gracefully before systemd kills them, restart, and are
    hardened as the app server's; all pass `systemd-analyze verify` (pointed at this checkout)."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    from deploy.check.stack import ROOT

    figures: dict = {}
    template_path = ROOT / "deploy" / "focusflow.env"
    template = template_path.read_text()
    values = {}
    for line in template.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            quoted = len(value) >= 2 and value[0] == value[-1] == '"'
            values[key] = value[1:-1] if quoted else value  # as systemd reads it
    sourced = subprocess.run(
        [
            "bash",
            "--noprofile",
            "--norc",
            "-c",
            'set -a; . "$1" && exec "$2" -c "import json, os; print(json.dumps(dict(os.environ)))"',
            "bash",
            str(template_path),
            sys.executable,
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
    )
    expect(sourced.returncode == 0, f"deploy/focusflow.env does not source in a shell:\n{sourced.stderr}")
    shell = json.loads(sourced.stdout)
    differ = {key: (value, shell.get(key)) for key, value in values.items() if shell.get(key) != value}
    expect(not differ, f"deploy/focusflow.env reads differently in the shell: {differ}")

    values.update(
        DJANGO_SECRET_KEY=stack.secret_key, DATABASE_URL=stack.database_url, REDIS_URL=stack.redis_url
    )
    env_file = workdir / "focusflow.env"
    env_file.write_text(
        "".join(f'{key}="{value}"\n' if " " in value else f"{key}={value}\n" for key, value in values.items())
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "AUTH_", "JWT_"))}
    for command in (["check", "--deploy", "--fail-level", "WARNING"], ["procrastinate", "healthchecks"]):
        run = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**clean, **values},
            capture_output=True,
            text=True,
        )
        expect(run.returncode == 0, f"manage.py {' '.join(command)} with deploy/focusflow.env:\n{run.stderr}")
    figures["env_template"] = (
        "sources in a shell as systemd reads it; check --deploy: no issues; healthchecks ok"
    )

    unit_dir = ROOT / "deploy" / "systemd"
    shipped = sorted(unit.name for unit in unit_dir.iterdir())
    expect(
        shipped == ["focusflow-events@.service", "focusflow-worker@.service", "focusflow@.service"],
        f"deploy/systemd: expected the app server's, the events' and the worker's units, found {shipped}",
    )
    app_unit, worker_unit, events_unit = (
        directives(unit_dir / name)
        for name in ("focusflow@.service", "focusflow-worker@.service", "focusflow-events@.service")
    )
    exec_start = worker_unit.get("ExecStart", [""])[-1]
    expect(
        " manage.py worker" in exec_start, f"the worker unit does not run manage.py worker: {exec_start!r}"
    )
    grace = re.search(r"--shutdown-timeout[ =](\d+(?:\.\d+)?)", exec_start)
    shutdown_timeout = float(grace.group(1)) if grace else _worker_default("shutdown_timeout")
    stop_timeout = float(worker_unit.get("TimeoutStopSec", ["90"])[-1])
    expect(
        worker_unit.get("KillSignal") == ["SIGTERM"] and stop_timeout > shutdown_timeout,
        f"the worker unit: SIGTERM then {stop_timeout:.0f} s before SIGKILL, for a {shutdown_timeout:.0f} s "
        "graceful shutdown",
    )
    expect(worker_unit.get("Restart") == ["always"], "the worker unit does not restart always")
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        expect(worker_unit.get(key) == app_unit.get(key), f"the worker unit's {key} differs from the app's")
    hardening = {k: v for k, v in app_unit.items() if k.startswith(HARDENING)}
    missing = {k: v for k, v in hardening.items() if worker_unit.get(k) != v}
    expect(not missing, f"the worker unit lacks the app server's hardening: {missing}")
    figures["worker_unit"] = (
        f"SIGTERM, {shutdown_timeout:.0f} s graceful, SIGKILL at {stop_timeout:.0f} s; Restart=always; "
        f"{len(hardening)} hardening settings as focusflow@"
    )
    exec_start = events_unit.get("ExecStart", [""])[-1]
    expect(
        "uvicorn focusflow.asgi:application" in exec_start and "--port %i" in exec_start,
        f"the events unit does not run uvicorn focusflow.asgi:application on its port: {exec_start!r}",
    )
    grace = re.search(r"--timeout-graceful-shutdown[ =](\d+)", exec_start)
    stop_timeout = float(events_unit.get("TimeoutStopSec", ["90"])[-1])
    expect(
        grace is not None and stop_timeout > float(grace.group(1)),
        f"the events unit: streams must be cut ({exec_start!r}) before the kill at {stop_timeout:.0f} s",
    )
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile", "Restart", "LimitNOFILE"):
        expect(events_unit.get(key) == app_unit.get(key), f"the events unit's {key} differs from the app's")
    missing = {k: v for k, v in hardening.items() if events_unit.get(k) != v}
    expect(not missing, f"the events unit lacks the app server's hardening: {missing}")
    figures["events_unit"] = (
        f"uvicorn, streams cut after {grace.group(1)} s, SIGKILL at {stop_timeout:.0f} s; "
        f"{len(hardening)} hardening settings as focusflow@"
    )

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        figures["systemd_units"] = "not verified: systemd-analyze is not installed"
        return figures
    units = workdir / "units"
    units.mkdir(exist_ok=True)
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
    names = []
    for name in shipped:
        text = (unit_dir / name).read_text().replace("/srv/focusflow/.venv", str(Path(sys.prefix)))
        text = text.replace("/srv/focusflow", str(ROOT)).replace(
            "/etc/focusflow/focusflow.env", str(env_file)
        )
        text = text.replace("User=focusflow", f"User={user}").replace("Group=focusflow", f"Group={user}")
        instance = name.replace(
            "@.", "@1." if "worker" in name else "@8101." if "events" in name else "@8001."
        )
        (units / instance).write_text(text)
        names.append(str(units / instance))
    verify = subprocess.run([analyze, "verify", "--man=no", *names], capture_output=True, text=True)
    expect(verify.returncode == 0 and not verify.stderr.strip(), f"systemd-analyze verify:\n{verify.stderr}")
    figures["systemd_units"] = [Path(n).name for n in names]
    return figures


HARDENING = ("NoNewPrivileges", "PrivateTmp", "Protect", "Restrict", "LockPersonality", "UMask")


def directives(unit: Path) -> dict[str, list[str]]:
    """A unit file's settings, each with its values in order (comments and sections dropped)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _worker_default(option: str) -> float:
    from focusflow.jobs.management.commands.worker import Command

    return Command().create_parser("manage.py", "worker").get_default(option)


# --- the API end to end -------------------------------------------------------------------------


def api_end_to_end(stack: Stack) -> dict:
    client = Client(stack.url, source="127.0.0.2")
    email = f"e2e-{uuid.uuid4().hex[:8]}@deploy-test.example"
    steps: list[tuple[str, Reply, int]] = []

    def step(name: str, reply: Reply, status: int) -> Reply:
        steps.append((name, reply, status))
        expect(reply.status == status, f"{name}: expected {status}, got {reply.status} {reply.body[:300]!r}")
        return reply

    step(
        "register",
        client.post("/api/users/register/", {"email": email, "password": PASSWORD}, auth=False),
        201,
    )
    tokens = step(
        "login", client.post("/api/users/login/", {"email": email, "password": PASSWORD}, auth=False), 200
    ).json()
    client.token = tokens["access"]
    step("me", client.get("/api/users/me/"), 200)
    step("profile", client.request("PATCH", "/api/users/me/", json_body={"daily_goal_minutes": 50}), 200)
    session = step("start", client.post("/api/sessions/start/", {"label": "e2e", "planned_minutes": 25}), 201)
    step("start again", client.post("/api/sessions/start/", {}), 409)
    step("active", client.get("/api/sessions/active/"), 200)
    step("pause", client.post("/api/sessions/pause/"), 200)
    step("resume", client.post("/api/sessions/resume/"), 200)
    step("stop", client.post("/api/sessions/stop/"), 200)
    journal = step(
        "journal",
        client.post(
            "/api/journals/create/", {"content": "Deep reading, calm focus.", "session": session.json()["id"]}
        ),
        201,
    ).json()
    free = step(
        "free journal", client.post("/api/journals/create/", {"content": "A walk helps."}), 201
    ).json()
    step("journal get", client.get(f"/api/journals/{journal['id']}/"), 200)
    step(
        "journal locked",
        client.request("PATCH", f"/api/journals/{journal['id']}/", json_body={"content": "x"}),
        403,
    )
    step(
        "journal edit",
        client.request("PATCH", f"/api/journals/{free['id']}/", json_body={"content": "Walks."}),
        200,
    )
    found = step("search", client.get("/api/journals/?search=reading"), 200).json()["results"]
    expect([j["id"] for j in found] == [journal["id"]], f"search found {found}")
    step("journal list", client.get("/api/journals/"), 200)
    step("journal delete", client.request("DELETE", f"/api/journals/{free['id']}/"), 204)
    quote = step("quote", client.get("/api/quotes/today/"), 200)
    step(
        "quote cached",
        client.get("/api/quotes/today/", headers={"If-None-Match": quote.headers["etag"]}),
        304,
    )
    step("history", client.get("/api/sessions/history/"), 200)
    step("stats", client.get("/api/sessions/stats/?days=7"), 200)
    step("export", client.get("/api/users/me/export/"), 200)
    refreshed = step(
        "refresh", client.post("/api/users/token/refresh/", {"refresh": tokens["refresh"]}, auth=False), 200
    ).json()
    step("logout", client.post("/api/users/logout/", {"refresh": refreshed["refresh"]}, auth=False), 204)
    client.token = refreshed["access"]
    step("access after logout", client.get("/api/users/me/"), 401)
    # A refresh token spent twice: the copy and the original cannot be told apart, so the
    # whole login (its family) is revoked, the token issued by the first spend included.
    credentials = {"email": email, "password": PASSWORD}
    second = step("login again", client.post("/api/users/login/", credentials, auth=False), 200).json()
    rotated = step(
        "refresh", client.post("/api/users/token/refresh/", {"refresh": second["refresh"]}, auth=False), 200
    ).json()
    step(
        "refresh reused",
        client.post("/api/users/token/refresh/", {"refresh": second["refresh"]}, auth=False),
        401,
    )
    step(
        "family revoked",
        client.post("/api/users/token/refresh/", {"refresh": rotated["refresh"]}, auth=False),
        401,
    )
    step("health", client.get("/api/health/", auth=False), 200)
    step("schema", client.get("/api/schema/", headers={"Accept": "application/json"}, auth=False), 200)
    step("unknown", client.get("/api/nope/", auth=False), 404)
    for name, reply, _ in steps:
        if reply.body:
            expect(reply.is_json, f"{name}: not JSON: {reply.headers.get('content-type')}")
    client.close()
    return {"steps": len(steps)}


# --- static pages -------------------------------------------------------------------------------


def static_pages(stack: Stack) -> dict:
    client = Client(stack.url, source="127.0.0.3")
    before = [instance.access_lines() for instance in stack.instances]
    pages = {"/api/docs/": "swagger-ui", "/admin/login/": "FocusFlow administration"}
    assets: set[str] = set()
    for path, marker in pages.items():
        reply = client.get(path)
        expect(reply.status == 200 and marker in reply.body.decode(), f"{path}: {reply.status}")
        assets |= set(re.findall(r'(?:src|href)="(/static/[^"]+)"', reply.body.decode()))
    expect(any("swagger-ui" in a for a in assets), f"no Swagger UI assets in the docs page: {assets}")
    expect(any("admin/css" in a for a in assets), f"no admin CSS in the login page: {assets}")
    for asset in sorted(assets):
        reply = client.get(asset)
        expect(reply.status == 200 and reply.body, f"{asset}: {reply.status}")
        expect("max-age=86400" in reply.headers.get("cache-control", ""), f"{asset}: not served by nginx")
    after = [instance.access_lines() for instance in stack.instances]
    app_static = sum(
        instance.access_log_text().count(" /static/") for instance in stack.instances
    )  # nginx serves them from STATIC_ROOT; the app never sees one
    expect(app_static == 0, f"{app_static} static requests reached gunicorn")
    client.close()
    return {"pages": len(pages), "assets": len(assets), "app_requests_for_pages": sum(after) - sum(before)}


# --- nginx's own errors as JSON ----------------------------------------------------------------


def json_errors(stack: Stack) -> dict:
    client = Client(stack.url, source="127.0.0.4")
    client.token = login(stack, "127.0.0.4", create_accounts("errors", 1)[0])
    checked = []

    big = b'{"content": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    reply = client.request(
        "POST", "/api/journals/create/", body=big, headers={"Content-Type": "application/json"}
    )
    expect_json_error(reply, 413, "request_too_large", "a 1 MiB+ body")
    checked.append("413 body over 1 MiB")

    reply = client.get("/api/journals/?search=" + "a" * 9000)
    expect_json_error(reply, 414, "uri_too_long", "a 9,000-character URL")
    checked.append("414 URL over 8 KB")

    # Around the limits nginx and gunicorn put on the request line, every answer is JSON:
    # nginx's 414, or the app's own answer for what it sees.
    statuses = set()
    for length in range(8150, 8200):
        reply = client.get("/api/journals/?search=" + "a" * (length - len("/api/journals/?search=")))
        expect(
            reply.is_json and reply.status in (400, 414),
            f"a {length}-byte URL: {reply.status} {reply.body[:80]!r}",
        )
        statuses.add(reply.status)
    checked.append(f"URLs of 8150-8199 bytes: JSON {sorted(statuses)}")

    reply = client.get("/api/journals/?search=" + "focus%20" * 500)
    expect_json_error(reply, 400, None, "a 3,000-character search")
    expect("search" in reply.json(), f"the long search is refused on `search`: {reply.body[:200]!r}")
    checked.append("400 from the app for a 3,000-character search")

    reply = client.get("/api/users/me/", headers={"X-Padding": "p" * 9000})
    expect_json_error(reply, 431, "request_header_too_large", "a 9,000-byte header")
    checked.append("431 header over 8 KB")
    client.close()

    # What HTTP clients refuse to send, byte for byte: refused by nginx, or passed on and refused
    # by gunicorn (100 headers and nginx's own, a control character), as JSON either way.
    def raw(line: str, *headers: bytes, body: bytes = b"") -> Reply:
        request = line.encode() + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + b"".join(headers)
        return raw_request(stack.url, request + b"\r\n" + body, source="127.0.0.4")

    many = [b"X-Header-%d: value\r\n" % i for i in range(100)]
    chunked = (b"Content-Type: application/json\r\n", b"Transfer-Encoding: chunked\r\n")
    cases = [
        ("100 headers", raw("GET /api/users/me/ HTTP/1.1", *many), 431, "request_header_too_large"),
        (
            "a control character in a header",
            raw("GET /api/users/me/ HTTP/1.1", b"X-Control: a\x01b\r\n"),
            400,
            "bad_request",
        ),
        ("TRACE", raw("TRACE /api/users/me/ HTTP/1.1"), 405, "method_not_allowed"),
        (
            "Transfer-Encoding: identity",
            raw("POST /api/journals/create/ HTTP/1.1", b"Transfer-Encoding: identity\r\n", body=b"{}"),
            400,
            "unsupported_transfer_encoding",
        ),
        (
            "a malformed chunked body",
            raw("POST /api/journals/create/ HTTP/1.1", *chunked, body=b"zz\r\n{}\r\n0\r\n\r\n"),
            400,
            "bad_request",
        ),
        (
            "a malformed chunked body to /api/health/",
            raw("POST /api/health/ HTTP/1.1", *chunked, body=b"2\r\n{}XX0\r\n\r\n"),
            400,
            "bad_request",
        ),
        ("HTTP/2.0 on an HTTP/1 port", raw("GET /api/users/me/ HTTP/2.0"), 400, "bad_request"),
    ]
    for what, reply, status, code in cases:
        expect_json_error(reply, status, code, what)
        checked.append(f"{status} {what}")
    return {"checked": checked}


def slow_clients(stack: Stack) -> dict:
    """Clients that send their bodies slowly hold nginx connections, never gunicorn's threads
    (nginx reads a request in full before passing it on): with twice as many of them as both
    instances have threads, the API still answers. Straight to gunicorn, as many would hold
    every thread until they finished (docs/operations.md)."""
    threads = len(stack.instances) * stack.workers * stack.threads
    # A chunked body, which the app reads on every path (focusflow.middleware) before it answers.
    head = b"POST /api/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    slow = []
    try:
        for _ in range(2 * threads):
            sock = socket.create_connection(("127.0.0.1", stack.nginx_port), source_address=("127.0.0.6", 0))
            slow.append(sock)
            sock.sendall(head + b"64\r\n{")  # 1 byte of a 100-byte chunk, the rest never
        client = Client(stack.url, source="127.0.0.7", timeout=10)
        statuses = [client.get("/api/health/").status for _ in range(threads)]
        client.close()
    finally:
        for sock in slow:
            sock.close()
    expect(statuses == [200] * threads, f"with {len(slow)} slow bodies pending: {statuses}")
    return {"slow_bodies_pending": len(slow), "health_answers": len(statuses)}


def gateway_errors(stack: Stack) -> dict:
    """502 with every app server down, 504 from a hung one: JSON with Retry-After."""
    client = Client(stack.url, source="127.0.0.5")
    account = create_accounts("gateway", 1)[0]
    client.token = login(stack, "127.0.0.5", account)

    # A hung app server (stopped, its sockets still accepting): a POST sent to it is not
    # retried elsewhere (it may have been applied), so it ends as a 504 after
    # proxy_read_timeout. Journals with an Idempotency-Key, sent at once so that nginx's
    # round robin gives some to the hung instance.
    hung = stack.instances[0]
    hung.signal_group(signal.SIGSTOP)
    started = time.monotonic()
    try:
        keys = [f"gw-{i}-{uuid.uuid4()}" for i in range(4)]

        def post(key: str) -> Reply:
            own = Client(stack.url, source="127.0.0.5", timeout=90)
            own.token = client.token
            try:
                return own.post("/api/journals/create/", {"content": key}, headers={"Idempotency-Key": key})
            finally:
                own.close()

        with ThreadPoolExecutor(len(keys)) as pool:
            replies = list(pool.map(post, keys))
    finally:
        hung.signal_group(signal.SIGCONT)
    waited = time.monotonic() - started
    timed_out = [r for r in replies if r.status == 504]
    expect(timed_out, f"no request reached the hung instance: {[r.status for r in replies]}")
    for reply in timed_out:
        expect_json_error(reply, 504, "gateway_timeout", "a hung app server")
        expect(reply.headers.get("retry-after") == "5", "504 without Retry-After")
    expect(all(r.status in (201, 504) for r in replies), f"{[r.status for r in replies]}")
    # The hung instance may still have applied them once it resumed: retrying with the same
    # key gives one journal each, whatever happened.
    wait_until(hung.healthy, timeout=60, what="the paused instance answering again")
    for key in keys:
        reply = wait_for_definitive(
            lambda k=key: client.post("/api/journals/create/", {"content": k}, headers={"Idempotency-Key": k})
        )
        expect(reply.status == 201, f"retry of {key}: {reply.status} {reply.body[:200]!r}")
    from journals.models import Journal

    stored = Journal.objects.filter(user__email=account[0]).count()
    expect(stored == len(keys), f"{stored} journals for {len(keys)} keyed posts")

    # Every app server down: nginx has nobody to ask.
    for instance in stack.instances:
        instance.stop()
    try:
        reply = client.get("/api/users/me/")
        expect_json_error(reply, 502, "bad_gateway", "no app server")
        expect(reply.headers.get("retry-after") == "5", "502 without Retry-After")
        health = client.get("/api/health/", auth=False)
        expect_json_error(health, 502, "bad_gateway", "health with no app server")
    finally:
        stack.start_instances()
    wait_until(lambda: client.get("/api/users/me/").status == 200, timeout=30, what="API back after 502")
    client.close()
    return {"504_after_s": round(waited, 1), "504s": len(timed_out), "keyed_retries_stored_once": stored}


def wait_for_definitive(send, timeout: float = 60) -> Reply:
    deadline = time.monotonic() + timeout
    while True:
        reply = send()
        if reply.status not in (0, 502, 503, 504) or time.monotonic() > deadline:
            return reply
        time.sleep(0.5)


def login(stack: Stack, source: str, account: tuple[str, str]) -> str:
    client = Client(stack.url, source=source)
    reply = client.post("/api/users/login/", {"email": account[0], "password": account[1]}, auth=False)
    client.close()
    expect(reply.status == 200, f"login {account[0]}: {reply.status} {reply.body[:200]!r}")
    return reply.json()["access"]


# --- the login limit across instances -----------------------------------------------------------


def _login_limit() -> int:
    """Password checks allowed per window (AUTH_THROTTLE_RATE, as the stack's settings say)."""
    from django.conf import settings  # configured by the stack, after this module loads

    return int(settings.AUTH_THROTTLE_RATE.split("/")[0]) if settings.AUTH_THROTTLE_RATE else 20


def login_limit(stack: Stack) -> dict:
    """The limit is counted once for both instances (Redis), per client address as nginx
    reports it, so a client cannot reset it by sending its own X-Forwarded-For."""
    limit = _login_limit()
    first_try = None
    for attempt, source in enumerate(["127.0.0.6", "127.0.0.7"]):
        client = Client(stack.url, source=source)
        logs_before = [i.access_log_text().count("POST /api/users/login/") for i in stack.instances]
        body = {"email": f"nobody-{source}@deploy-test.example", "password": "wrong-password-123"}
        statuses = [client.post("/api/users/login/", body, auth=False).status for _ in range(limit)]
        over = client.post("/api/users/login/", body, auth=False)
        forged = client.post(
            "/api/users/login/", body, auth=False, headers={"X-Forwarded-For": f"10.9.8.{attempt + 1}"}
        )
        logs_after = [i.access_log_text().count("POST /api/users/login/") for i in stack.instances]
        client.close()
        if statuses == [401] * limit and over.status == 429:
            break
        # A fixed counting window may have turned over mid-way: once more, from a new address.
        expect(attempt == 0, f"login limit: {statuses} then {over.status}")
        first_try = f"{statuses} then {over.status}"
    expect_json_error(over, 429, None, f"attempt {limit + 1}")
    expect(int(over.headers.get("retry-after", "0")) > 0, "429 without Retry-After")
    expect_json_error(forged, 429, None, "a forged X-Forwarded-For")
    served = [after - before for before, after in zip(logs_before, logs_after, strict=True)]
    expect(all(n > 0 for n in served), f"the attempts did not reach every instance: {served}")
    # Per client: another address, meanwhile, is not held back by that client's attempts.
    other = Client(stack.url, source="127.0.0.8")
    elsewhere = other.post("/api/users/login/", {**body, "email": "other@deploy-test.example"}, auth=False)
    other.close()
    expect(elsewhere.status == 401, f"another client's login: {elsewhere.status}, not 401 (wrong password)")
    figures = {
        "limit": limit,
        "attempts_per_instance": served,
        "retry_after_s": int(over.headers["retry-after"]),
    }
    if first_try:
        figures["first_try"] = first_try
    return figures


# --- failover -----------------------------------------------------------------------------------


NGINX_NOTICES_WITHIN = 0.1  # seconds after the processes are gone


@dataclass(frozen=True)
class Crash:
    killed_at: float  # time.monotonic() of the SIGKILL
    dead_at: float  # ... once every process of the instance was gone
    restart_s: float  # how long its start took
    back_after_s: float  # from its start to its first request through nginx


def crash_and_restart(instance, *, down_seconds: float) -> Crash:
    """SIGKILL `instance` (a crash), leave it down `down_seconds`, start it again, and return
    once nginx sends it traffic."""
    killed_at, dead_at = instance.kill()
    time.sleep(down_seconds)
    lines_before_restart = instance.access_lines()
    restart_started = time.monotonic()
    instance.start()
    restarted_at = time.monotonic()
    back_after = wait_until(
        lambda: instance.access_lines() > lines_before_restart,
        timeout=30,
        what="traffic back on the restarted instance",
    )
    return Crash(killed_at, dead_at, restarted_at - restart_started, back_after)


def failover(stack: Stack, *, users: int = 16) -> dict:
    """Under steady load, one instance is killed: only requests in flight on it may fail; the
    clients' keyed retries leave no duplicates; traffic returns to it when it restarts."""
    accounts = create_accounts("failover", users)
    run = LoadRun(stack.url, accounts, mix="writes", first_source=20).start()
    time.sleep(6)
    victim, survivor = stack.instances
    crash = crash_and_restart(victim, down_seconds=6)
    killed_at, dead_at = crash.killed_at, crash.dead_at
    time.sleep(4)
    survivor_lines = survivor.access_lines()
    time.sleep(2)
    expect(survivor.access_lines() > survivor_lines, "the surviving instance stopped getting traffic")
    run.stop()

    failures = [r for r in run.records if r.status == 0 or r.status >= 500]
    # Sent after the SIGKILL, before nginx could see the connections close (a kept-alive
    # connection it picked in the same instant): in flight too, as far as anyone can tell.
    while_dying = [r for r in failures if r.started >= killed_at]
    late = [r for r in failures if r.started >= dead_at + NGINX_NOTICES_WITHIN]
    expect(not late, f"{len(late)} requests sent after the instance was dead failed: {late[:5]}")
    verify_outcomes(run)
    return {
        "requests": len(run.records),
        "failed_in_flight": len(failures),
        "failed_statuses": sorted({r.status for r in failures}),
        "failed_sent_while_dying": len(while_dying),
        "no_answer_errors": sorted({r.error[:120] for r in failures if r.status == 0}),
        "kill_took_ms": round((dead_at - killed_at) * 1000),
        "restart_s": round(crash.restart_s, 1),
        "traffic_back_after_restart_s": round(crash.back_after_s, 1),
        "writes_confirmed": sum(len(o.session_ids) + len(o.journal_ids) for o in run.outcomes),
        "duplicates": 0,
    }


def rolling_deploy(stack: Stack, *, users: int = 16) -> dict:
    """A zero-downtime deploy under load, one instance at a time, each back in nginx's
    rotation before the next: a reload (SIGHUP: new workers, new code), then a full restart
    (SIGTERM, then start). Not one request may fail."""
    accounts = create_accounts("rolling", users)
    run = LoadRun(stack.url, accounts, mix="writes", first_source=180).start()
    time.sleep(3)
    took: dict[str, list[float]] = {"reload_s": [], "restart_s": []}
    for kind in ("reload", "restart"):
        for instance in stack.instances:
            started = time.monotonic()
            if kind == "reload":
                old = instance.workers()
                os.kill(instance.process.pid, signal.SIGHUP)
                wait_until(
                    lambda i=instance, o=old: not (o & i.workers()) and len(i.workers()) == stack.workers,
                    timeout=60,
                    what=f"{instance.name} reloaded",
                )
            else:
                instance.stop()
                instance.start()
            took[f"{kind}_s"].append(round(time.monotonic() - started, 1))
            lines = instance.access_lines()
            wait_until(lambda i=instance, n=lines: i.access_lines() > n + 20, timeout=30, what="traffic back")
    time.sleep(2)
    run.stop()
    failures = [r for r in run.records if r.status == 0 or r.status >= 500]
    expect(not failures, f"{len(failures)} requests failed during the rolling deploy: {failures[:5]}")
    verify_outcomes(run)
    return {"requests": len(run.records), "failed": 0, **took}


def verify_outcomes(run: LoadRun) -> None:
    """What the server confirmed to the clients is exactly what the database holds."""
    from focus_sessions.models import FocusSession
    from journals.models import Journal

    for outcome in run.outcomes:
        expect(not outcome.unexpected, f"{outcome.email}: unexpected answers {outcome.unexpected[:3]}")
        expect(
            outcome.unresolved_writes == 0,
            f"{outcome.email}: {outcome.unresolved_writes} writes never answered",
        )
        sessions = set(FocusSession.objects.filter(user__email=outcome.email).values_list("id", flat=True))
        journals = set(Journal.objects.filter(user__email=outcome.email).values_list("id", flat=True))
        expect(
            sessions == outcome.session_ids,
            f"{outcome.email}: sessions {sessions} != confirmed {outcome.session_ids}",
        )
        expect(
            journals == outcome.journal_ids,
            f"{outcome.email}: journals {journals} != confirmed {outcome.journal_ids}",
        )


# --- the database cut away under load -----------------------------------------------------------


def database_outage(stack: Stack, *, users: int = 16, cut_seconds: float = 5) -> dict:
    """Under load, the database refuses, then swallows connections: every answer meanwhile is
    a 503 `database_unavailable` (no 500, no 502/504) within DB_CONNECT_TIMEOUT + 1 s, the
    same processes recover by themselves, and nothing written is lost or doubled."""
    accounts = create_accounts("outage", users)
    workers_before = {i.name: i.workers() for i in stack.instances}
    run = LoadRun(stack.url, accounts, mix="writes", first_source=60).start()
    figures = {}
    time.sleep(4)
    for mode in ("refuse", "blackhole"):
        cut_at = time.monotonic()
        stack.database(mode)
        time.sleep(cut_seconds)
        restored_at = time.monotonic()
        stack.database("up")
        time.sleep(4)
        during = [
            r for r in run.records if cut_at + 0.5 <= r.started and r.started + r.elapsed <= restored_at
        ]
        errors = [r for r in run.records if r.status >= 500 and cut_at <= r.started + r.elapsed]
        wrong = [r for r in errors if r.status != 503 or r.code != "database_unavailable"]
        expect(not wrong, f"{mode}: answers other than 503 database_unavailable: {wrong[:5]}")
        unavailable = [r for r in errors if r.status == 503]
        expect(unavailable, f"{mode}: no 503 during the cut")
        slowest = max(r.elapsed for r in unavailable)
        expect(
            slowest <= stack.connect_timeout + 1,
            f"{mode}: a 503 took {slowest:.2f} s (DB_CONNECT_TIMEOUT is {stack.connect_timeout} s)",
        )
        after = [r for r in run.records if r.started >= restored_at and 200 <= r.status < 300]
        first_ok = min((r.started + r.elapsed for r in after), default=None)
        expect(first_ok is not None, f"{mode}: no success after the database came back")
        figures[mode] = {
            "requests_during_cut": len(during),
            "503s": len(unavailable),
            "p50_503_ms": round(sorted(r.elapsed for r in unavailable)[len(unavailable) // 2] * 1000),
            "max_503_ms": round(slowest * 1000),
            "first_success_after_restore_ms": round((first_ok - restored_at) * 1000),
        }
    run.stop()
    verify_outcomes(run)
    expect(
        {i.name: i.workers() for i in stack.instances} == workers_before,
        "worker processes were replaced during the outage",
    )
    figures["writes_confirmed"] = sum(len(o.session_ids) + len(o.journal_ids) for o in run.outcomes)
    figures["same_worker_processes"] = True
    return figures


def network_partition(stack: Stack) -> dict:
    """A silent partition (packets dropped, no reset) under a query, a new connection and an
    open transaction: the first two fail, the third is rolled back by the server, all within
    DB_CONNECT_TIMEOUT (+1 s), thanks to keepalives and tcp_user_timeout on both sides."""
    from deploy.check import partition

    why_not = partition.available()
    if why_not:
        return {"not_run": why_not}
    figures = partition.run(timeout=stack.connect_timeout)
    limit = stack.connect_timeout + 1
    for key in (
        "query_in_flight_failed_after_s",
        "new_connection_failed_after_s",
        "orphaned_transaction_rolled_back_after_s",
    ):
        expect(key in figures, f"partition: {figures}")
        expect(figures[key] <= limit, f"partition: {key} = {figures[key]} s (limit {limit} s)")
    expect(figures.get("reconnects_after_the_link_is_back"), f"partition: {figures}")
    return figures


def redis_outage(stack: Stack) -> dict:
    """Redis refusing connections: the API keeps answering (the cache fails open), the login
    limit still holds (counted in the database meanwhile), and it counts in Redis again once
    Redis is back."""
    limit = _login_limit()
    account = create_accounts("redis", 1)[0]
    client = Client(stack.url, source="127.0.0.9")
    stack.redis("refuse")
    try:
        client.token = login(stack, "127.0.0.9", account)
        statuses = {
            "me": client.get("/api/users/me/").status,
            "quote": client.get("/api/quotes/today/").status,
            "journal": client.post("/api/journals/create/", {"content": "Redis is down"}).status,
            "journals": client.get("/api/journals/?search=redis").status,
            "start": client.post("/api/sessions/start/", {}).status,
        }
        expect(
            statuses == {"me": 200, "quote": 200, "journal": 201, "journals": 200, "start": 201},
            f"{statuses}",
        )
        body = {"email": "nobody-redis@deploy-test.example", "password": "wrong-password-123"}
        while_down = [client.post("/api/users/login/", body, auth=False).status for _ in range(41)]
        expect(set(while_down) == {401, 429}, f"logins while Redis is down: {while_down}")
        expect(while_down.count(401) <= 2 * limit, f"the limit lapsed while Redis was down: {while_down}")
    finally:
        stack.redis("up")
    limited: list[int] = []
    while len(limited) < 41 and 429 not in limited:  # 41: one counting window sees 21 at least
        limited.append(client.post("/api/users/login/", body, auth=False).status)
    client.close()
    expect(429 in limited, f"the limit is not enforced again after Redis came back: {limited}")
    return {
        "answers_while_down": statuses,
        "failed_logins_while_down": {"401": while_down.count(401), "429": while_down.count(429)},
    }


# --- the worker: mail, and an SMTP outage -----------------------------------------------------

MAILED_TOKEN = re.compile(r"\?token=([A-Za-z0-9_-]+)")
MAILED_CODE = re.compile(r"^[ \t]+([0-9A-Z]{4}-[0-9A-Z]{4})\r?$", re.MULTILINE)
NEW_PASSWORD = "deploy-test-passphrase-2"


def mail(stack: Stack, *, registrations: int = 20, resets: int = 5, outage_seconds: float = 60) -> dict:
    """A worker (`manage.py worker`, the app servers' environment) sending to a real SMTP
    server. Each registration's verification mail arrives, and its link verifies (commit to
    SMTP: p50, p99). The SMTP server down for `outage_seconds`: reset requests through nginx
    still answer 202 at once, the worker keeps their jobs and retries, and once the server is
    back on its port each reset mail arrives exactly once, its code still good. The worker's
    memory and database connections, and its stop on SIGTERM."""
    from deploy.check.procs import tcp_connections
    from deploy.check.smtp_sink import text_part

    figures: dict = {"worker_ready_s": round(stack.start_worker(), 1)}
    sink, worker = stack.smtp, stack.worker
    rss_start = worker.rss()
    run = uuid.uuid4().hex[:6]
    emails = [f"mail-{run}-{n}@deploy-test.example" for n in range(registrations)]

    def post(source: str, path: str, body: dict) -> Reply:
        client = Client(stack.url, source=source)
        try:
            return client.post(path, body, auth=False)
        finally:
            client.close()

    # Registrations, one after the other: from the 201 (sent after the commit) to the SMTP
    # server's acceptance of the verification mail.
    latencies = []
    for n, email in enumerate(emails):
        reply = post(f"127.0.4.{2 + n}", "/api/users/register/", {"email": email, "password": PASSWORD})
        expect(reply.status == 201, f"register {email}: {reply.status} {reply.body[:200]!r}")
        [message] = sink.wait_for(email, timeout=30)
        latencies.append(sink.arrived_at(message) - (reply.started + reply.elapsed))
        expect(
            message["Subject"] == "Confirm your email address for FocusFlow"
            and f"{APP_URL}/verify-email?token=" in text_part(message),
            f"the verification mail to {email}: {message['Subject']!r}\n{text_part(message)[:500]}",
        )
        if n == 0:
            token = MAILED_TOKEN.search(text_part(message)).group(1)
            verified = post("127.0.4.200", "/api/users/email/verify/", {"token": token})
            expect(
                verified.status == 200 and verified.json().get("email_verified") is True,
                f"verifying with the mailed link: {verified.status} {verified.body[:200]!r}",
            )
    figures.update(
        verification_mails=len(latencies),
        commit_to_smtp_p50_ms=round(percentile(latencies, 0.50) * 1000, 1),
        commit_to_smtp_p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
    )
    figures["worker_db_connections"] = tcp_connections(worker.pid, stack.proxy_port)

    # The reset request as the worker's SMTP server sees it: first up (addresses without an
    # account: no mail), then down for a full minute.
    reset = "/api/users/password/reset/"
    up = [
        post(f"127.0.4.{210 + n}", reset, {"email": f"nobody-{run}-{n}@deploy-test.example"})
        for n in range(5)
    ]
    expect({r.status for r in up} == {202}, f"reset requests: {[r.status for r in up]}")
    targets = emails[:resets]
    sink.stop()
    down_at = time.monotonic()
    try:
        during = []
        for n, email in enumerate(targets):
            reply = post(f"127.0.4.{220 + n}", reset, {"email": email})
            expect(reply.status == 202, f"reset {email} with SMTP down: {reply.status} {reply.body[:200]!r}")
            during.append(reply.elapsed)
            time.sleep(outage_seconds / 2 / len(targets))  # spread over the first half
        time.sleep(max(0.0, down_at + outage_seconds - 2 - time.monotonic()))
        jobs = mail_jobs()
        waiting = [job for job in jobs if job[0] == "users.send_password_reset"]
        expect(
            len(waiting) == len(targets)
            and all(status == "todo" and tries >= 1 for _, status, tries in waiting),
            f"the reset jobs near the end of the SMTP outage (task, status, attempts): {jobs}",
        )
        expect(worker.running(), f"the worker exited during the SMTP outage; see {worker.log}")
        waiting_by_queue = queue_backlog()  # docs/operations.md's alert metric
        expect(
            waiting_by_queue.get("mail", (0, 0))[0] == len(targets),
            f"waiting jobs per queue, near the end of the outage: {waiting_by_queue}",
        )
        time.sleep(max(0.0, down_at + outage_seconds - time.monotonic()))
    finally:
        sink.start()  # the same port, as a mail server that comes back
    back_at = time.monotonic()
    figures.update(
        smtp_down_s=round(back_at - down_at),
        resets_while_down=len(during),
        reset_202_p50_ms_smtp_up=round(percentile([r.elapsed for r in up], 0.5) * 1000, 1),
        reset_202_p50_ms_smtp_down=round(percentile(during, 0.5) * 1000, 1),
        reset_202_max_ms_smtp_down=round(max(during) * 1000, 1),
        attempts_while_down=sorted(tries for _, _, tries in waiting),
        oldest_waiting_mail_s=round(waiting_by_queue["mail"][1]),
    )

    deadline = back_at + 90  # the longest backoff (60 s) and room
    after = []
    for email in targets:
        [_, message] = sink.wait_for(email, count=2, timeout=max(1.0, deadline - time.monotonic()))
        after.append(sink.arrived_at(message) - back_at)
        expect(message["Subject"] == "Reset your FocusFlow password", f"{email}: {message['Subject']!r}")
    # Exactly once: the mail queue is empty (a job is deleted once it succeeded), and each
    # address holds its verification and one reset mail.
    wait_until(lambda: not mail_jobs(), timeout=10, what="the mail queue empty")
    copies = {email: len(sink.to(email)) for email in targets}
    expect(set(copies.values()) == {2}, f"mails per address (verification + reset): {copies}")
    figures.update(
        reset_mails_after_smtp_back_s=[round(a, 1) for a in sorted(after)],
        reset_mails_per_address=1,
    )

    # The mail that waited out the outage still works: its code resets the password.
    email = targets[0]
    code = MAILED_CODE.search(text_part(sink.to(email)[1])).group(1)
    body = {"email": email, "code": code, "new_password": NEW_PASSWORD}
    confirmed = post("127.0.4.201", "/api/users/password/reset/confirm/", body)
    expect(
        confirmed.status == 204, f"reset with the mailed code: {confirmed.status} {confirmed.body[:200]!r}"
    )
    [*_, notice] = sink.wait_for(email, count=3, timeout=30)
    expect(notice["Subject"] == "Your FocusFlow password was changed", f"{notice['Subject']!r}")

    figures.update(
        worker_rss_start_mb=round(rss_start / 2**20, 1),
        worker_rss_end_mb=round(worker.rss() / 2**20, 1),
    )
    stopped_in, status = worker.stop()
    expect(status == 0, f"the worker exited {status} on SIGTERM; see {worker.log}")
    figures["worker_sigterm_exit_s"] = round(stopped_in, 1)
    return figures


def queue_backlog() -> dict[str, tuple[int, float]]:
    """Per queue, the jobs waiting (to run, or to run again) and the age of the oldest in
    seconds: the query docs/operations.md gives for monitoring."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT j.queue_name, count(*), extract(epoch FROM now() - min(e.at))
              FROM procrastinate_jobs j
              JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
             WHERE j.status = 'todo'
             GROUP BY 1
            """
        )
        return {queue: (count, float(age)) for queue, count, age in cursor.fetchall()}


def mail_jobs() -> list[tuple[str, str, int]]:
    """The mail queue's jobs not done yet: (task, status, attempts)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, status, attempts FROM procrastinate_jobs"
            " WHERE queue_name = 'mail' AND status IN ('todo', 'doing', 'failed') ORDER BY id"
        )
        return cursor.fetchall()


# --- webhooks -----------------------------------------------------------------------------------

# Events that can happen only once to an object: two webhook-ids for one of them would be one
# event sent twice as two (a receiver deduplicating on webhook-id would act on it twice).
ONCE_PER_OBJECT = {
    "session.started",
    "session.stopped",
    "session.logged",
    "session.deleted",
    "journal.created",
    "journal.deleted",
}


def webhooks(
    stack: Stack, *, users: int = 12, receiver_failures: int = 5, settle_seconds: float = 60
) -> dict:
    """Webhooks delivered by the worker while one web instance is killed, none lost or sent
    twice with different ids. A receiver on a free loopback port (only loopback), one webhook
    per account to a path of its own, subscribed to every event and validated by its ping;
    writing users through nginx while one gunicorn instance is SIGKILLed and restarted, and the
    receiver failing a few deliveries meanwhile (retried about 5 s later). Once deliveries have
    settled: every session and journal the clients saw created, and every session stopped,
    has its event at its account's path; every event the server recorded was delivered; every
    request verifies with its webhook's secret (the Standard Webhooks reference library); one
    webhook-id, one body; no event under two ids; a failed delivery came again under its id."""
    from deploy.check.webhook_receiver import WebhookReceiver

    started_worker = stack.worker is None or not stack.worker.running()
    figures: dict = {}
    if started_worker:
        figures["worker_ready_s"] = round(stack.start_worker(), 1)
    receiver = WebhookReceiver().start()
    victim = stack.instances[-1]
    try:
        figures.update(_webhooks(stack, receiver, victim, users, receiver_failures, settle_seconds))
    finally:
        receiver.stop()
        if victim.process is not None and victim.process.poll() is not None:
            victim.start()  # killed, and the check failed before it restarted it
        if started_worker:
            stack.worker.stop()
    return figures


def _webhooks(
    stack: Stack, receiver, victim, users: int, receiver_failures: int, settle_seconds: float
) -> dict:
    from deploy.check.webhook_receiver import verified
    from focus_sessions.models import FocusSession
    from focusflow.webhooks.models import WebhookDelivery, WebhookMessage
    from focusflow.webhooks.services import EVENTS
    from users.models import User
    from users.tokens import refresh_token_for

    accounts = create_accounts("webhooks", users)
    by_email = {user.email: user for user in User.objects.filter(email__in=[e for e, _ in accounts])}
    client = Client(stack.url, source="127.0.0.10")
    hooks: dict[str, dict] = {}  # email -> id, path, secret, Authorization header
    creating = time.monotonic()
    for n, (email, _) in enumerate(accounts):
        auth = {"Authorization": f"Bearer {refresh_token_for(by_email[email]).access_token}"}
        path = f"/hook/{n}"
        reply = client.post(
            "/api/webhooks/", {"url": receiver.url(path), "events": list(EVENTS)}, headers=auth
        )
        made = reply.json() if reply.status == 201 else {}
        expect(
            made.get("status") == "pending" and str(made.get("secret")).startswith("whsec_"),
            f"POST /api/webhooks/ for {email}: {reply.status} {reply.body[:300]!r}",
        )
        hooks[email] = {"id": made["id"], "path": path, "secret": made["secret"], "auth": auth}

    def active() -> bool:
        return all(
            client.get(f"/api/webhooks/{hook['id']}/", headers=hook["auth"]).json().get("status") == "active"
            for hook in hooks.values()
        )

    wait_until(active, timeout=30, what="every webhook validated by its ping", interval=0.2)
    validated_s = time.monotonic() - creating  # from the first POST to all of them active
    client.close()
    secret_at = {hook["path"]: hook["secret"] for hook in hooks.values()}
    for hook in hooks.values():
        pings = receiver.of_type("ping", hook["path"])
        expect(len(pings) == 1, f"{hook['path']}: {len(pings)} pings")
        event = verified(pings[0], hook["secret"])
        expect(event["data"].get("webhook") == hook["id"], f"{hook['path']}: the ping says {event}")

    # Writes through nginx; one instance killed under them and restarted, as failover does.
    run = LoadRun(stack.url, accounts, mix="writes", first_source=150).start()
    time.sleep(4)
    for _ in range(receiver_failures):
        receiver.answer(500, b'{"error": "deploy test"}')
    crash_and_restart(victim, down_seconds=4)
    time.sleep(3)
    run.stop()
    load_stopped = time.monotonic()
    verify_outcomes(run)
    ours = [hook["id"] for hook in hooks.values()]
    path_of = {email: hook["path"] for email, hook in hooks.items()}

    def index() -> dict[tuple[str, str, int], list]:
        """(path, type, object id) -> the requests that carried it, in arrival order."""
        found: dict[tuple[str, str, int], list] = {}
        for got in list(receiver.received):
            event = got.json()
            found.setdefault((got.path, event["type"], event["data"].get("id")), []).append(got)
        return found

    def expected() -> set[tuple[str, str, int]]:
        """What the clients saw confirmed (sessions started, journals written), and the sessions
        the database holds as stopped."""
        wanted = set()
        for outcome in run.outcomes:
            path = path_of[outcome.email]
            wanted |= {(path, "session.started", sid) for sid in outcome.session_ids}
            wanted |= {(path, "journal.created", jid) for jid in outcome.journal_ids}
        stopped = FocusSession.objects.filter(user__email__in=list(hooks), is_active=False)
        wanted |= {
            (path_of[email], "session.stopped", sid)
            for sid, email in stopped.values_list("id", "user__email")
        }
        return wanted

    def unsettled() -> str:
        """What is not there yet ('' once everything is)."""
        missing = expected() - set(index())
        pending = WebhookMessage.objects.filter(
            webhook_id__in=ours, state=WebhookMessage.State.PENDING
        ).count()
        recorded = set(WebhookMessage.objects.filter(webhook_id__in=ours).values_list("id", flat=True))
        unseen = recorded - {got.id for got in list(receiver.received)}
        if not (missing or pending or unseen):
            return ""
        return (
            f"{len(missing)} confirmed writes without their event (e.g. {sorted(missing)[:3]}), "
            f"{pending} messages pending, {len(unseen)} recorded messages not received"
        )

    try:
        wait_until(lambda: not unsettled(), timeout=settle_seconds, what="deliveries", interval=0.25)
    except RuntimeError:
        raise Failed(f"{settle_seconds:.0f} s after the load: {unsettled()}") from None
    settled_at = time.monotonic()
    # The worker's pace while it had the load's events to deliver (it falls behind when they
    # come faster: then the latency below grows with the queue).
    delivered = [got.at for got in list(receiver.received) if got.json()["type"] != "ping"]
    pace = len(delivered) / max(delivered[-1] - delivered[0], 0.001) if delivered else 0.0

    # Then one write at a time on a quiet stack, each waiting for its event: every other event
    # type (a session logged, corrected, deleted; a journal written, changed, deleted), and the
    # latency of a delivery when nothing queues.
    first = next(iter(hooks.values()))
    quiet = Client(stack.url, source="127.0.0.10")

    def one(method: str, url: str, body: dict | None, event: str, object_id: int | None = None) -> dict:
        before = len(receiver.received)
        reply = quiet.request(method, url, json_body=body, headers=first["auth"])
        expect(reply.status in (200, 201, 204), f"{method} {url}: {reply.status} {reply.body[:300]!r}")
        object_id = object_id if object_id is not None else reply.json()["id"]
        deadline = time.monotonic() + 30
        while True:
            for got in receiver.received[before:]:
                data = got.json()
                if (got.path, data["type"], data["data"].get("id")) == (first["path"], event, object_id):
                    quiet_latencies.append(got.at - (reply.started + reply.elapsed))
                    return data["data"]
            expect(time.monotonic() < deadline, f"{event} {object_id}: not at the receiver within 30 s")
            time.sleep(0.005)

    quiet_latencies: list[float] = []
    for n in range(3):
        start = datetime.now(UTC) - timedelta(hours=6 - n)
        times = {"start_time": start.isoformat(), "end_time": (start + timedelta(minutes=25)).isoformat()}
        session = one("POST", "/api/sessions/", {**times, "label": "logged"}, "session.logged")
        one("PATCH", f"/api/sessions/{session['id']}/", {"label": f"corrected {n}"}, "session.updated")
        journal = one("POST", "/api/journals/create/", {"content": f"quiet {n}"}, "journal.created")
        one("PATCH", f"/api/journals/{journal['id']}/", {"content": f"changed {n}"}, "journal.updated")
        gone = one("DELETE", f"/api/journals/{journal['id']}/", None, "journal.deleted", journal["id"])
        expect(gone == {"id": journal["id"]}, f"journal.deleted carries {gone}")
        gone = one("DELETE", f"/api/sessions/{session['id']}/", None, "session.deleted", session["id"])
        expect(gone == {"id": session["id"]}, f"session.deleted carries {gone}")
    quiet.close()
    wait_until(lambda: not unsettled(), timeout=settle_seconds, what="deliveries", interval=0.25)
    received = list(receiver.received)
    found = index()

    # Each request signed with its webhook's secret; one body per webhook-id; one id per event.
    forged = []
    for got in received:
        try:
            verified(got, secret_at[got.path])
        except Exception as exc:  # the reference library's errors, and a KeyError for a stray path
            forged.append(f"{got.path} {got.id}: {exc!r}")
    expect(not forged, f"{len(forged)} requests do not verify: {forged[:3]}")
    by_id: dict[str, list] = {}
    for got in received:
        by_id.setdefault(got.id, []).append(got)
    differing = [i for i, copies in by_id.items() if len({(c.path, c.body) for c in copies}) > 1]
    expect(not differing, f"webhook-ids sent with different bodies or to different paths: {differing[:3]}")
    twice = {key: {c.id for c in copies} for key, copies in found.items() if key[1] in ONCE_PER_OBJECT}
    twice = {key: ids for key, ids in twice.items() if len(ids) > 1}
    expect(not twice, f"events sent under more than one webhook-id: {list(twice.items())[:3]}")

    # Every event the server recorded (in the write's transaction) was delivered, nothing else came.
    messages = dict(WebhookMessage.objects.filter(webhook_id__in=ours).values_list("id", "state"))
    undelivered = {i: state for i, state in messages.items() if state != WebhookMessage.State.DELIVERED}
    expect(not undelivered, f"messages not delivered: {list(undelivered.items())[:5]}")
    expect(
        set(by_id) == set(messages),
        f"{len(set(by_id) - set(messages))} ids received that the server never recorded",
    )

    # The deliveries the receiver failed came again, under the same id, and then succeeded.
    expect(not receiver.answers, f"{len(receiver.answers)} of the receiver's failures never used")
    failed = list(
        WebhookDelivery.objects.filter(webhook_id__in=ours, status_code=500).values_list(
            "message_id", flat=True
        )
    )
    expect(len(failed) == receiver_failures, f"{len(failed)} attempts logged as 500, not {receiver_failures}")
    failed_ids = set(failed)
    expect(
        all(len(by_id[i]) >= 2 for i in failed_ids),
        f"failed deliveries not sent again: {[i for i in failed_ids if len(by_id[i]) < 2]}",
    )
    retry_waits = [by_id[i][1].at - by_id[i][0].at for i in failed_ids]

    # What the events carry: a journal without its text; a stopped session as its endpoint shows it.
    for key, copies in found.items():
        if key[1] in ("journal.created", "journal.updated"):
            data = copies[0].json()["data"]
            expect(
                set(data) == {"id", "session", "created_at", "updated_at"},
                f"a {key[1]} event carries {sorted(data)}",
            )

    def without_clock(data: dict) -> dict:
        return {k: v for k, v in data.items() if k != "server_now"}  # the clock when it was written

    shown = Client(stack.url, source="127.0.0.10")
    compared = 0
    for hook in hooks.values():
        stops = sorted(key for key in found if key[0] == hook["path"] and key[1] == "session.stopped")
        if stops:
            _, _, sid = stops[-1]
            reply = shown.get(f"/api/sessions/{sid}/", headers=hook["auth"])
            event = found[stops[-1]][0].json()["data"]
            shows = reply.json() if reply.status == 200 else {}
            expect(
                without_clock(shows) == without_clock(event),
                f"session {sid}: the endpoint shows {reply.body[:400]!r}, its session.stopped event {event}",
            )
            compared += 1
    shown.close()

    latencies = []
    for outcome in run.outcomes:
        path = path_of[outcome.email]
        for (kind, object_id), answered in outcome.confirmed_at.items():
            event = "session.started" if kind == "session" else "journal.created"
            latencies.append(found[path, event, object_id][0].at - answered)
    failures = [r for r in run.records if r.status == 0 or r.status >= 500]
    types: dict[str, int] = {}
    for got in received:
        kind = got.json()["type"]
        types[kind] = types.get(kind, 0) + 1
    return {
        "accounts": users,
        "validated_s": round(validated_s, 1),
        "requests": len(run.records),
        "failed_in_flight": len(failures),
        "failed_statuses": sorted({r.status for r in failures}),
        "writes_confirmed": sum(len(o.session_ids) + len(o.journal_ids) for o in run.outcomes),
        "events_received": len(received),
        "distinct_ids": len(by_id),
        "by_type": dict(sorted(types.items())),
        "retries": len(received) - len(by_id),
        "receiver_failures": receiver_failures,
        "retried_after_s": [round(w, 1) for w in sorted(retry_waits)],
        "events_under_two_ids": 0,
        "settled_after_load_s": round(settled_at - load_stopped, 1),
        "delivered_per_s": round(pace),
        "commit_to_receiver_p50_ms": _ms(percentile(latencies, 0.50)),
        "commit_to_receiver_p99_ms": _ms(percentile(latencies, 0.99)),
        "commit_to_receiver_max_ms": _ms(max(latencies, default=0)),
        "quiet_writes": len(quiet_latencies),
        "quiet_commit_to_receiver_p50_ms": _ms(percentile(quiet_latencies, 0.50)),
        "quiet_commit_to_receiver_max_ms": _ms(max(quiet_latencies, default=0)),
        "sessions_compared_with_endpoint": compared,
    }


# --- soak ---------------------------------------------------------------------------------------


def soak(stack: Stack, *, seconds: float = 180, users: int = 32) -> dict:
    """Mixed traffic at 32 connections: zero 5xx, latency percentiles, and worker memory from
    minute 1 to the end (max_requests is off for this run, so a leak would show)."""
    for instance in stack.instances:
        instance.stop()
    stack.start_instances(GUNICORN_MAX_REQUESTS="0")
    accounts = create_accounts("soak", users)
    samples: list[tuple[float, dict[int, int]]] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(1):
            rss: dict[int, int] = {}
            for instance in stack.instances:
                rss.update(instance.worker_rss())
            samples.append((time.monotonic(), rss))

    sampler = threading.Thread(target=sample, daemon=True)
    run = LoadRun(stack.url, accounts, mix="mixed", first_source=100, relogin_seconds=45).start()
    sampler.start()
    started = run.started
    time.sleep(seconds)
    run.stop()
    stop_sampling.set()
    sampler.join()

    records = [r for r in run.records if r.started < started + seconds]
    figures = summary(records)
    figures["seconds"] = seconds
    figures["users"] = users
    figures["requests_per_s"] = round(len(records) / seconds, 1)
    figures["by_kind_p99_ms"] = {
        label: summary([r for r in records if r.label == label])["p99_ms"]
        for label in sorted({r.label for r in records})
    }
    figures.update(memory_growth(samples, started, seconds))
    expect(figures["server_errors"] == 0, f"soak: {figures['server_errors']} 5xx ({figures['statuses']})")
    expect(figures["no_answer"] == 0, f"soak: {figures['no_answer']} requests without an answer")
    expect(figures["memory_growth_pct"] < 10, f"soak: worker memory grew {figures['memory_growth_pct']}%")
    verify_outcomes(run)
    return figures


def memory_growth(samples: list[tuple[float, dict[int, int]]], started: float, seconds: float) -> dict:
    """Total worker RSS at minute 1 against the last 10 s. Each worker's smallest reading in a
    10 s window, so that a login's transient Argon2 buffer (100 MB, freed at once) is not
    mistaken for growth."""

    def window(low: float, high: float) -> dict[int, int]:
        lowest: dict[int, int] = {}
        for at, rss in samples:
            if low <= at - started <= high:
                for pid, size in rss.items():
                    lowest[pid] = min(size, lowest.get(pid, size))
        return lowest

    first = window(55, 65)
    last = window(seconds - 10, seconds)
    same = sorted(set(first) & set(last))
    expect(same, "no worker lived from minute 1 to the end")
    before = sum(first[pid] for pid in same)
    after = sum(last[pid] for pid in same)
    return {
        "workers": len(same),
        "worker_rss_minute1_mb": round(before / 2**20, 1),
        "worker_rss_end_mb": round(after / 2**20, 1),
        "memory_growth_pct": round((after - before) / before * 100, 2),
    }


# --- backup and restore -------------------------------------------------------------------------


TABLES = [
    "users_user",
    "focus_sessions_focussession",
    "journals_journal",
    "quotes_quote",
    "quotes_dailyquote",
    "focusflow_idempotencyrecord",
    "token_blacklist_outstandingtoken",
    "token_blacklist_blacklistedtoken",
]


def backup_restore(stack: Stack, workdir: Path) -> dict:
    """pg_dump of the populated database, pg_restore into a fresh one: every row comes back."""
    import subprocess

    import psycopg2

    from deploy.check.stack import with_db

    dump = workdir / "focusflow.dump"
    source = stack.database_url
    name = source.rsplit("/", 1)[1]
    target = with_db(source, f"{name}_restored")
    stack.drop_database(target)
    started = time.monotonic()
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], check=True)
    dumped = time.monotonic()
    subprocess.run(
        ["createdb", "--maintenance-db", with_db(source, "postgres"), f"{name}_restored"], check=True
    )
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], check=True
    )
    restored = time.monotonic()

    def fingerprint(url: str) -> dict[str, tuple[int, str]]:
        connection = psycopg2.connect(url)
        prints = {}
        with connection.cursor() as cursor:
            for table in TABLES:
                rows = "md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                cursor.execute(f"SELECT count(*), {rows} FROM {table} t")
                prints[table] = cursor.fetchone()
        connection.close()
        return prints

    original, copy = fingerprint(source), fingerprint(target)
    stack.drop_database(target)
    for table in TABLES:
        expect(original[table] == copy[table], f"{table}: {original[table]} before, {copy[table]} restored")
    expect(
        original["journals_journal"][0] > 0 and original["focus_sessions_focussession"][0] > 0,
        "nothing to back up",
    )
    return {
        "rows": {table: original[table][0] for table in TABLES},
        "dump_mb": round(dump.stat().st_size / 2**20, 2),
        "dump_s": round(dumped - started, 1),
        "restore_s": round(restored - dumped, 1),
    }


# --- live updates: a thousand idle streams ----------------------------------------------------


def events(stack: Stack, *, users: int = 40, per_user: int = 25, changes: int = 100) -> dict:
    """`users` x `per_user` idle streams of `GET /api/events/` through nginx, spread over the two
    events processes (a few opened with tickets, as browsers do): the API answers as before
    while they are open; each change reaches every stream of its account (request sent to
    event received, p50/p99, under the contract's second); every stream gets its heartbeats;
    memory per stream; nginx logs no ticket. Then Redis cut away and back (a restart): a
    change made meanwhile, whose poke was lost, still reaches its streams, and every stream
    stays open."""
    import asyncio

    from django.conf import settings

    from users.models import User
    from users.tokens import refresh_token_for

    emails = [email for email, _ in create_accounts("events", users)]
    tokens = [str(refresh_token_for(user).access_token) for user in User.objects.filter(email__in=emails)]
    return asyncio.run(_events(stack, tokens, per_user, changes, settings.EVENTS_HEARTBEAT_SECONDS))


async def _events(stack: Stack, tokens: list[str], per_user: int, changes: int, heartbeat: int) -> dict:
    import asyncio
    import random

    from deploy.check.sse import SseStream

    host, port = "127.0.0.1", stack.nginx_port
    clients = [Client(stack.url) for _ in tokens]
    for client, token in zip(clients, tokens, strict=True):
        client.token = token

    def api_latencies(count: int = 200) -> list[float]:
        replies = [clients[n % len(clients)].get("/api/users/me/") for n in range(count)]
        expect(
            {r.status for r in replies} == {200}, f"GET /api/users/me/: {sorted({r.status for r in replies})}"
        )
        return [r.elapsed for r in replies]

    async def open_one(index: int, user: int) -> SseStream:
        if index < 10:  # a browser: a ticket
            reply = await asyncio.to_thread(clients[user].post, "/api/events/ticket/", {})
            expect(reply.status == 201, f"POST /api/events/ticket/: {reply.status} {reply.body[:200]!r}")
            return await SseStream.open(host, port, f"/api/events/?ticket={reply.json()['ticket']}")
        return await SseStream.open(host, port, "/api/events/", {"Authorization": f"Bearer {tokens[user]}"})

    figures: dict = {}
    before = api_latencies()
    rss_before = sum(e.rss() for e in stack.events)
    streams: dict[int, list[SseStream]] = {user: [] for user in range(len(tokens))}
    opened = time.monotonic()
    try:
        for batch in range(per_user):
            opening = [open_one(batch * len(tokens) + user, user) for user in range(len(tokens))]
            for user, stream in enumerate(await asyncio.gather(*opening)):
                streams[user].append(stream)
        every = [stream for group in streams.values() for stream in group]
        await asyncio.gather(*(s.wait_for(lambda item: item[1] == "ready", timeout=30) for s in every))
        figures["streams"] = len(every)
        figures["open_all_s"] = round(time.monotonic() - opened, 1)
        await asyncio.sleep(2)  # settled
        rss_after = sum(e.rss() for e in stack.events)
        figures["memory_per_stream_kb"] = round((rss_after - rss_before) / len(every) / 1024, 1)
        figures["events_rss_mb"] = {e.name: round(e.rss() / 2**20, 1) for e in stack.events}

        during = await asyncio.to_thread(api_latencies)
        figures["api_me_ms"] = {
            "without_streams": {"p50": _ms(percentile(before, 0.5)), "p99": _ms(percentile(before, 0.99))},
            "with_streams": {"p50": _ms(percentile(during, 0.5)), "p99": _ms(percentile(during, 0.99))},
        }

        latencies = []
        for n in range(changes):
            user = random.randrange(len(tokens))
            reply = await asyncio.to_thread(
                clients[user].post, "/api/journals/create/", {"content": f"live {n}"}
            )
            expect(reply.status == 201, f"journal: {reply.status}")
            journal = reply.json()["id"]

            def is_it(item, journal=journal):
                return item[1] == "change" and item[3]["type"] == "journal" and item[3]["id"] == journal

            arrivals = await asyncio.gather(*(s.wait_for(is_it, timeout=5) for s in streams[user]))
            latencies += [arrival[0] - reply.started for arrival in arrivals]
        figures["deliveries"] = len(latencies)
        figures["delivery_ms"] = {
            "p50": _ms(percentile(latencies, 0.5)),
            "p99": _ms(percentile(latencies, 0.99)),
        }
        expect(
            percentile(latencies, 0.99) < 1.0, f"delivery p99 {percentile(latencies, 0.99):.3f} s (over 1 s)"
        )

        beats = await asyncio.gather(
            *(s.wait_for(lambda item: item[1] is None, timeout=heartbeat + 2) for s in every),
            return_exceptions=True,
        )
        quiet = [beat for beat in beats if isinstance(beat, BaseException)]
        expect(not quiet, f"{len(quiet)} of {len(every)} streams got no heartbeat within {heartbeat + 2} s")

        # Redis restarted under the open streams: the poke of a change made meanwhile is lost.
        user = random.randrange(len(tokens))
        stack.redis("refuse")
        try:
            await asyncio.sleep(1)
            reply = await asyncio.to_thread(
                clients[user].post, "/api/journals/create/", {"content": "no Redis"}
            )
            expect(reply.status == 201, f"journal while Redis is down: {reply.status}")
            await asyncio.sleep(2)
        finally:
            stack.redis("up")
        back = time.monotonic()
        journal = reply.json()["id"]
        arrivals = await asyncio.gather(
            *(
                s.wait_for(
                    lambda item: item[1] == "change" and item[3]["id"] == journal, timeout=heartbeat + 5
                )
                for s in streams[user]
            )
        )
        figures["after_redis_restart_s"] = round(max(a[0] for a in arrivals) - back, 1)
        closed = [s for s in every if s.closed.is_set()]
        expect(not closed, f"{len(closed)} streams closed across the Redis restart")
        reply = await asyncio.to_thread(
            clients[user].post, "/api/journals/create/", {"content": "Redis back"}
        )
        journal = reply.json()["id"]
        arrivals = await asyncio.gather(
            *(
                s.wait_for(lambda item: item[1] == "change" and item[3]["id"] == journal, timeout=5)
                for s in streams[user]
            )
        )
        figures["delivery_after_restart_ms"] = _ms(max(a[0] for a in arrivals) - reply.started)
    finally:
        await asyncio.gather(*(s.close() for group in streams.values() for s in group))
        for client in clients:
            client.close()
    log = (stack.workdir / "nginx.access.log").read_text(errors="replace")
    expect("ticket=" not in log, "nginx logged a ticket")
    expect("GET /api/events/ HTTP" in log, "nginx did not log the streams")
    return figures


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
