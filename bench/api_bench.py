"""Throughput and latency of the hot endpoints over real HTTP, against a baseline in the same run.

    .venv/bin/python bench/api_bench.py [--seconds 5] [--concurrency 8] [--workers 4]

Creates a scratch PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/focusflow_bench), seeds it (a heavy user with a long history
and many journals), serves it with gunicorn, and hammers each endpoint from concurrent clients.
Every figure is printed next to the same run's baseline, `GET /api/health/` (the cost of the
framework, auth-free, one trivial query), so the ratios mean something on any machine.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/focusflow_bench"


def setup_django(database_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789",
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        AUTH_THROTTLE_RATE="off",
        DJANGO_LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusflow.settings")
    import django

    django.setup()


def recreate_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def seed(*, history: int, journals: int, quotes: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from focus_sessions.models import FocusSession
    from journals.models import Journal
    from quotes.models import Quote
    from users.models import User

    call_command("migrate", verbosity=0)
    heavy = User.objects.create_user("heavy@example.com", "bench-passphrase-1", timezone="Europe/Paris")
    light = User.objects.create_user("light@example.com", "bench-passphrase-1")
    start = datetime(2023, 1, 1, 8, tzinfo=UTC)
    rng = random.Random(7)
    FocusSession.objects.bulk_create(
        [
            FocusSession(
                user=heavy,
                start_time=(t := start + timedelta(hours=6 * i + rng.random())),
                end_time=t + timedelta(minutes=25),
                is_active=False,
                focus_seconds=1500,
                label="deep work",
            )
            for i in range(history)
        ],
        batch_size=5000,
    )
    words = [
        "focus",
        "calm",
        "deep",
        "work",
        "reading",
        "writing",
        "running",
        "planning",
        "review",
        "morning",
        "evening",
        "tired",
    ]
    Journal.objects.bulk_create(
        [Journal(user=heavy, content=" ".join(rng.choices(words, k=40))) for _ in range(journals)],
        batch_size=5000,
    )
    Quote.objects.bulk_create([Quote(text=f"Bench quote number {i}.", author="Bench") for i in range(quotes)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"heavy": str(AccessToken.for_user(heavy)), "light": str(AccessToken.for_user(light))}


def serve(database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = 8799
    env = {**os.environ, "DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "focusflow.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{url}/api/health/", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def hammer(name: str, make_request, *, seconds: float, concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(_):
        nonlocal errors
        session = requests.Session()
        local, bad = [], 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = make_request(session)
            local.append(time.perf_counter() - began)
            if response.status_code >= 500:
                bad += 1
        with lock:
            latencies.extend(local)
            errors += bad

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "name": name,
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "n": len(latencies),
        "errors": errors,
    }


def run_cases(url: str, tokens: dict, args) -> list[dict]:
    heavy = {"Authorization": f"Bearer {tokens['heavy']}"}
    light = {"Authorization": f"Bearer {tokens['light']}"}

    # A cursor deep into the heavy user's history, to show deep pages cost what page one costs.
    deep_page = f"{url}/api/sessions/history/?page_size=100"
    page = requests.get(
        f"{url}/api/sessions/history/", headers=heavy, params={"page_size": 100}, timeout=10
    ).json()
    for _ in range(50):  # fewer on a short history: the last page that has a next one
        if not page["next"]:
            break
        deep_page = page["next"]
        deep_page = f"{url}/api/sessions/history/?page_size=100"
    page = requests.get(deep_page, headers=heavy, timeout=10).json()

    def start_stop(session):
        session.post(f"{url}/api/sessions/start/", headers=light, timeout=10)
        return session.post(f"{url}/api/sessions/stop/", headers=light, timeout=10)

    cases = [
        ("health (baseline)", lambda s: s.get(f"{url}/api/health/", timeout=10)),
        ("users/me", lambda s: s.get(f"{url}/api/users/me/", headers=heavy, timeout=10)),
        ("sessions/active (404)", lambda s: s.get(f"{url}/api/sessions/active/", headers=heavy, timeout=10)),
        ("sessions/history p1", lambda s: s.get(f"{url}/api/sessions/history/", headers=heavy, timeout=10)),
        (
            "sessions/history p1 x100",
            lambda s: s.get(f"{url}/api/sessions/history/?page_size=100", headers=heavy, timeout=10),
        ),
        ("sessions/history deep x100", lambda s: s.get(deep_page, headers=heavy, timeout=10)),
        ("sessions/stats 7d", lambda s: s.get(f"{url}/api/sessions/stats/", headers=heavy, timeout=10)),
        (
            "sessions/stats 366d",
            lambda s: s.get(f"{url}/api/sessions/stats/?days=366", headers=heavy, timeout=10),
        ),
        (
            "journals search",
            lambda s: s.get(f"{url}/api/journals/?search=running", headers=heavy, timeout=10),
        ),
        ("sessions start+stop", start_stop),
        ("quotes/today", lambda s: s.get(f"{url}/api/quotes/today/", headers=heavy, timeout=10)),
    ]
    return [hammer(name, fn, seconds=args.seconds, concurrency=args.concurrency) for name, fn in cases]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--history", type=int, default=20_000, help="sessions of the heavy user")
    parser.add_argument("--journals", type=int, default=20_000)
    parser.add_argument("--quotes", type=int, default=500)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    recreate_database(database_url)
    setup_django(database_url)
    print(f"seeding: {args.history} sessions, {args.journals} journals, {args.quotes} quotes ...", flush=True)
    tokens = seed(history=args.history, journals=args.journals, quotes=args.quotes)
    process, url = serve(database_url, args.workers)
    try:
        results = run_cases(url, tokens, args)
    finally:  # never leave the server behind, whatever failed
        process.terminate()
        process.wait()

    base = results[0]
    print(
        f"\n{args.workers} gunicorn workers, {args.concurrency} concurrent clients, {args.seconds:g} s each\n"
    )
    print(f"{'endpoint':28} {'req/s':>8} {'vs base':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'5xx':>5}")
    for r in results:
        ratio = r["rps"] / base["rps"]
        print(
            f"{r['name']:28} {r['rps']:8.0f} {ratio:8.2f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f}"
            f" {r['errors']:5d}"
        )


if __name__ == "__main__":
    main()
