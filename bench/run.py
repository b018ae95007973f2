"""`make bench`: FocusFlow's hot endpoints over real HTTP, against the floor of this stack.

    .venv/bin/python bench/run.py [--seconds 10] [--connections 8] [--workers 2] [--only NAME ...]

Creates a scratch PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/focusflow_bench), seeds it in bulk (bench/seed.py), and
serves it with the production gunicorn config (gunicorn.conf.py; debug off) on loopback. In
the same run it serves the floor (bench/floor: a bare Django app, no DRF, no middleware, one
JSON GET with one indexed query) with the same gunicorn settings, driver and database. wrk
drives both; every figure is reported as a ratio to the floor's requests per second, measured
before and after the endpoints (their mean). The table, with the machine and the date, is
printed and written to docs/performance.md between its bench markers.

Throttles are off: the benchmark measures the work of a request, and a limit would turn the
measured requests into 429s. Worker recycling (GUNICORN_MAX_REQUESTS) is off too, and each
worker listens on its own socket (--reuse-port), for both apps: see Server. wrk is installed
with apt when missing (Debian/Ubuntu, as root).
"""

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
import requests
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.check.procs import free_port  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/focusflow_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
DOC = ROOT / "docs" / "performance.md"
START_MARK, END_MARK = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    ratio: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- The machine and its servers --------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("bench: installing wrk (apt)", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
            subprocess.run(install, env=env, capture_output=True, check=True)
        return shutil.which("wrk") or sys.exit("bench: wrk did not install")
    sys.exit("bench: wrk is needed (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)")


def recreate_database(url: str) -> None:

    base, name = url.rsplit("/", 1)
    admin = psycopg2.connect(f"{base}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


class Server:
    """gunicorn with the project's production config, on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str], *, workers: int, health: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            # --reuse-port: each worker listens on its own socket and the kernel spreads new
            # connections over them. Without it wrk's 8 keep-alive connections go to whichever
            # worker wins the accept race and stay there, 8-0 as often as 4-4: the figures
            # then measured that luck, halving from one run to the next.
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--reuse-port", app],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers)},
            stdout=subprocess.DEVNULL,
            # A file, not a pipe: nobody reads a pipe while wrk runs, and once its 64 KiB are
            # full every thread that logs a line (a 4xx is one) blocks, and the server with it.
            stderr=(log := tempfile.TemporaryFile(mode="w+")),  # noqa: SIM115 (lives as long as the server)
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log.seek(0)
                sys.exit(f"bench: {app} did not start:\n{log.read()}")
            try:
                with urllib.request.urlopen(self.url + health, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"bench: {app} did not answer within a minute")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --- wrk --------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(
    name: str,
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    script: str = "get.lua",
    env: dict[str, str] | None = None,
) -> Result:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
        "-s", str(ROOT / "bench" / "wrk" / script), url,
    ]  # fmt: skip
    completed = subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=True
    )
    for line in completed.stderr.splitlines():  # what a script reports (e.g. unexpected answers)
        print(f"  {line}", flush=True)
    output = completed.stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Result(
        name=name,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(latency["50"]) if "50" in latency else float("inf"),
        p99_ms=_ms(latency["99"]) if "99" in latency else float("inf"),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


# --- The run ----------------------------------------------------------------------------------


def login(url: str, email: str, password: str) -> str:

    response = requests.post(
        f"{url}/api/users/login/", json={"email": email, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["access"]


def sync_cursor(url: str, token: str) -> str:
    """The cursor of a device that has synced everything: the empty poll's."""

    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = requests.get(
            f"{url}/api/sync/", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ).json()
        cursor = body["cursor"]
        if not body["has_more"]:
            return cursor


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


TARGETS = {
    # endpoint: (minimum ratio to the floor, description)
    "sessions/active": 0.6,
    "users/me": 0.6,
    "quotes/today": 0.6,
    "sync (empty poll)": 0.6,
    "sessions/history page 1": 0.4,
    "journals page 1": 0.4,
    "sessions/stats?days=30": 0.4,
    "sessions/stats?days=30, 30 tags and goals": 0.4,
    "sync (page of 200)": 0.15,
}
GET_P99_MS = 20.0
TAGGED_STATS = "sessions/stats?days=30, 30 tags and goals"
# Stats with tags and goals against the same user's history untagged (issue 20).
TAGGED_STATS_MIN = 0.9
SCALING_MAX = 1.2


def server_env(database: str) -> dict[str, str]:
    """The environment every benchmarked process runs in: production settings (debug off)
    over plain HTTP on loopback, the bench's own database and Redis, quiet logs, no login limit."""
    return {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "AUTH_THROTTLE_RATE": "off",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="names (or parts of names) of the endpoints to run")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    args = parser.parse_args()

    ensure_wrk()
    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    env = {
        **server_env(database),
        "USER_WRITE_THROTTLE_RATE": "off",
        "USER_READ_THROTTLE_RATE": "off",  # wrk reads as one user, far above any person's rate
        "TOKEN_THROTTLE_RATE": "off",
        "JWT_ACCESS_MINUTES": "240",
        "GUNICORN_LOG_LEVEL": "warning",
        # Production recycles a worker after about 10,000 requests; at these rates that restart
        # (a cold worker importing Django on two cores) would land inside most runs, for the
        # floor and FocusFlow alike, and measure the restart rather than the request.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    os.environ.update(
        {
            key: env[key]
            for key in ("DATABASE_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_HTTPS", "REDIS_URL")
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusflow.settings")

    print(f"bench: seeding {database}", flush=True)
    started = time.monotonic()
    recreate_database(database)
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    cache.clear()
    from bench import seed as seeding

    users = seeding.seed()
    print(f"bench: seeded in {time.monotonic() - started:.0f} s", flush=True)

    app = Server("focusflow.wsgi", env, workers=args.workers, health="/api/health/")
    floor = Server(
        "bench.floor.wsgi",
        {**env, "DJANGO_SETTINGS_MODULE": "bench.floor.settings"},
        workers=args.workers,
        health=f"/floor/{users['realistic'].pk}/",
    )
    try:
        tokens = {role: login(app.url, user.email, seeding.PASSWORD) for role, user in users.items()}
        token = tokens["realistic"]
        from users.personal_tokens import personal_token_create

        _, personal = personal_token_create(
            user=users["realistic"], name="bench", scopes=["sessions:read"], password_version_seen=None
        )
        api = f"{app.url}/api"

        requests.post(
            f"{api}/sessions/start/", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).raise_for_status()
        poll = sync_cursor(app.url, token)
        gets = [
            ("sessions/active", f"{api}/sessions/active/", token),
            ("users/me", f"{api}/users/me/", token),
            # The same with a personal access token: its hash looked up with the account, one query.
            ("users/me (personal access token)", f"{api}/users/me/", personal),
            ("quotes/today", f"{api}/quotes/today/", token),
            ("sync (empty poll)", f"{api}/sync/?{urlencode({'cursor': poll})}", token),
            ("sessions/history page 1", f"{api}/sessions/history/", token),
            ("journals page 1", f"{api}/journals/", token),
            ("journals?search=", f"{api}/journals/?search={seeding.SEARCH_WORD}", token),
            ("sessions/stats?days=30", f"{api}/sessions/stats/?days=30", token),
            # The same two years with 30 tags and 9 goals: `by_tag` and `goals` filled in.
            (TAGGED_STATS, f"{api}/sessions/stats/?days=30", tokens["tagged"]),
            ("sync (page of 200)", f"{api}/sync/?limit=200", token),
        ]
        scaling = [
            ("history page 1", "/sessions/history/"),
            ("stats?days=30", "/sessions/stats/?days=30"),
            ("journals?search=", f"/journals/?search={seeding.SEARCH_WORD}"),
            ("sync (page of 200)", "/sync/?limit=200"),
        ]

        def wanted(name: str) -> bool:
            return not args.only or any(part in name for part in args.only)

        run = {"seconds": args.seconds, "connections": args.connections}
        print(
            f"bench: warming up, then {args.seconds} s per endpoint, {args.connections} connections",
            flush=True,
        )
        floor_url = f"{floor.url}/floor/{users['realistic'].pk}/"
        wrk("warm-up", floor_url, seconds=2, connections=args.connections)
        floors = [wrk("floor", floor_url, **run)]
        rss_before = rss_mb(app.pids())
        results: list[Result] = []
        for name, url, bearer in gets:
            if wanted(name):
                wrk("warm-up", url, seconds=1, connections=args.connections, env={"BENCH_TOKEN": bearer})
                results.append(wrk(name, url, **run, env={"BENCH_TOKEN": bearer}))
                print(f"  {name}: {results[-1].rps:.0f} req/s", flush=True)
        if wanted("start+stop"):
            pair_tokens = ",".join(tokens[f"pair{n}"] for n in range(args.connections))
            pair = wrk(
                "start+stop (a request each)",
                app.url,
                **{**run},
                threads=args.connections,
                script="start_stop.lua",
                env={"BENCH_TOKENS": pair_tokens},
            )
            results.append(pair)
            print(f"  start+stop: {pair.rps:.0f} req/s", flush=True)
        if wanted("login"):
            results.append(
                wrk(
                    "login (Argon2, slow by design)",
                    f"{api}/users/login/",
                    **run,
                    script="login.lua",
                    env={"BENCH_EMAIL": users["pair0"].email, "BENCH_PASSWORD": seeding.PASSWORD},
                )
            )
            print(f"  login: {results[-1].rps:.0f} req/s", flush=True)
        scaled: list[tuple[str, Result, Result]] = []
        for name, path in scaling:
            if wanted(name) or wanted("scaling"):
                small = wrk(f"{name}, 100 rows", api + path, **run, env={"BENCH_TOKEN": tokens["small"]})
                large = wrk(f"{name}, 100,000 rows", api + path, **run, env={"BENCH_TOKEN": tokens["large"]})
                scaled.append((name, small, large))
                print(f"  {name}: {small.rps:.0f} req/s (100) vs {large.rps:.0f} req/s (100,000)", flush=True)
        rss_after = rss_mb(app.pids())
        floors.append(wrk("floor", floor_url, **run))
    finally:
        app.stop()
        floor.stop()

    floor_rps = statistics.mean(f.rps for f in floors)
    for result in results:
        result.ratio = result.rps / floor_rps
    report = render(
        results=results,
        scaled=scaled,
        floors=floors,
        floor_rps=floor_rps,
        args=args,
        rss=(rss_before, rss_after),
    )
    print()
    print(report)
    if not args.no_doc and not args.only:
        write_doc(report)
        print(f"\nbench: written to {DOC.relative_to(ROOT)}")


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = names[0] if names else cpu
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}, Django {django.get_version()}, {connection.Database.__name__} "
        f"{connection.Database.__version__.split()[0]}, PostgreSQL {pg}"
    )


def render(*, results, scaled, floors, floor_rps, args, rss) -> str:
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        f"wrk, {args.connections} connections, {args.seconds} s per endpoint, over loopback; gunicorn "
        f"(gunicorn.conf.py) with {args.workers} workers, debug off, PostgreSQL and Redis on this machine.",
        f"Floor (bare Django, one JSON GET, one indexed query): {floor_rps:.0f} req/s "
        f"(before: {floors[0].rps:.0f}, after: {floors[-1].rps:.0f}).",
        "",
        "| endpoint | req/s | p50 | p99 | non-2xx | vs floor | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    misses = []
    for result in results:
        target = TARGETS.get(result.name)
        is_get = not result.name.startswith(("start", "login"))
        verdicts = []
        if target is not None:
            verdicts.append(f"≥ {target:g}: {'met' if result.ratio >= target else 'MISSED'}")
            if result.ratio < target:
                misses.append(f"{result.name}: {result.ratio:.2f} of the floor (target {target:g})")
        if is_get:
            ok = result.p99_ms <= GET_P99_MS
            verdicts.append(f"p99 ≤ {GET_P99_MS:g} ms: {'met' if ok else 'MISSED'}")
            if not ok:
                misses.append(f"{result.name}: p99 {result.p99_ms:.1f} ms")
        if result.non_2xx or result.errors:
            misses.append(f"{result.name}: {result.non_2xx} non-2xx, {result.errors} socket errors")
        lines.append(
            f"| {result.name} | {result.rps:.0f} | {result.p50_ms:.1f} ms | {result.p99_ms:.1f} ms | "
            f"{result.non_2xx + result.errors} | {result.ratio:.2f} | {'; '.join(verdicts) or '-'} |"
        )
    if scaled:
        lines += [
            "",
            "Scaling: the same request for a user with 100 rows (sessions, and as many journals) and "
            f"for one with 100,000; target: at most {SCALING_MAX:g}× slower.",
            "",
            "| request | 100 rows | 100,000 rows | slower by | p99 (100 / 100,000) | target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for name, small, large in scaled:
            slower = small.rps / large.rps
            ok = slower <= SCALING_MAX
            if not ok:
                misses.append(f"{name}: {slower:.2f}× slower with 100,000 rows")
            lines.append(
                f"| {name} | {small.rps:.0f} req/s | {large.rps:.0f} req/s | {slower:.2f}× | "
                f"{small.p99_ms:.1f} / {large.p99_ms:.1f} ms | {'met' if ok else 'MISSED'} |"
            )
    by_name = {result.name: result for result in results}
    if TAGGED_STATS in by_name and "sessions/stats?days=30" in by_name:
        ratio = by_name[TAGGED_STATS].rps / by_name["sessions/stats?days=30"].rps
        ok = ratio >= TAGGED_STATS_MIN
        if not ok:
            misses.append(f"stats with tags and goals: {ratio:.2f} of plain stats")
        lines += [
            "",
            f"Stats with `by_tag` and `goals` (two years, 30 tags, 9 goals) against the same history "
            f"without tags or goals: {by_name[TAGGED_STATS].rps:.0f} / "
            f"{by_name['sessions/stats?days=30'].rps:.0f} req/s = {ratio:.2f} "
            f"(target ≥ {TAGGED_STATS_MIN:g}: {'met' if ok else 'MISSED'}).",
        ]
    lines += [
        "",
        f"Worker memory (2 workers) across the endpoint runs: {rss[0]:.0f} MB before, {rss[1]:.0f} MB after.",
    ]
    lines += ["", "Targets missed: " + ("none." if not misses else "; ".join(misses) + ".")]
    return "\n".join(lines)


def write_doc(report: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START_MARK}\n{END_MARK}\n"
    if START_MARK not in text:
        text += f"\n{START_MARK}\n{END_MARK}\n"
    before, rest = text.split(START_MARK, 1)
    _, after = rest.split(END_MARK, 1)
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(f"{before}{START_MARK}\n{report}\n{END_MARK}{after}")


if __name__ == "__main__":
    main()
