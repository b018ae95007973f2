"""`make bench`, mail: what the reset request and the worker cost, over real HTTP.

    .venv/bin/python bench/mail.py [--requests 20] [--mails 50]

On a scratch database (BENCH_DATABASE_URL), gunicorn with the production config and one
`manage.py worker` sending to a real SMTP server on loopback (deploy/check/smtp_sink.py):

- the reset request for an address with an account and for one without, alternated, each
  `--requests` times, first with the worker stopped (the requests alone), then with it running
  and a pause after each request (the worker's own work for a known address, done in the
  pause, would otherwise land in the next request's time on two cores): their median and
  slowest latency. The request does the same work for both, so the two should not differ
  beyond noise: no enumeration by timing;
- from a committed registration (its 201) to its verification email accepted by the SMTP
  server, `--mails` times one after the other: the worker's latency, median and p99;
- the worker's resident memory after that.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import DEFAULT_DATABASE, Server, recreate_database, rss_mb, server_env  # noqa: E402
from deploy.check.smtp_sink import SmtpSink  # noqa: E402

PASSWORD = "correct-horse-battery-staple"


def timed_post(url: str, body: dict) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = requests.post(url, json=body, timeout=10)
    return (time.perf_counter() - started) * 1000, response


def reset_timings(url: str, rounds: int, *, pause: float) -> tuple[list[float], list[float]]:
    """Reset requests for a known and an unknown address, alternated (which goes first swaps
    every round): their times (ms)."""
    known, unknown = [], []
    pair = [("known@example.com", known), ("unknown@example.com", unknown)]
    for round_ in range(rounds):
        for email, times in pair if round_ % 2 else pair[::-1]:
            elapsed, response = timed_post(url, {"email": email})
            assert response.status_code == 202, response.text
            times.append(elapsed)
            time.sleep(pause)
    return known, unknown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--mails", type=int, default=50)
    args = parser.parse_args()

    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    sink = SmtpSink().start()
    env = {
        **server_env(database),
        "RECOVERY_THROTTLE_RATE": "off",
        "EMAIL_URL": sink.url,
        "GUNICORN_LOG_LEVEL": "warning",
    }
    recreate_database(database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    app = Server("focusflow.wsgi", env, workers=2, health="/api/health/")
    register = f"{app.url}/api/users/register/"
    reset = f"{app.url}/api/users/password/reset/"
    worker = None
    try:
        assert (
            requests.post(register, json={"email": "known@example.com", "password": PASSWORD}).status_code
            == 201
        )
        for _ in range(5):  # warm both paths
            timed_post(reset, {"email": "known@example.com"})
            timed_post(reset, {"email": "unknown@example.com"})
        alone = reset_timings(reset, args.requests, pause=0)
        worker = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, env=env)
        sink.wait_for("known@example.com", timeout=60)  # the worker is up
        beside = reset_timings(reset, args.requests, pause=0.1)

        latencies = []
        for n in range(args.mails):
            email = f"person{n}@example.com"
            response = requests.post(register, json={"email": email, "password": PASSWORD}, timeout=10)
            committed = time.perf_counter()
            assert response.status_code == 201, response.text
            sink.wait_for(email, timeout=30)
            latencies.append((time.perf_counter() - committed) * 1000)
        latencies.sort()
        worker_mb = rss_mb([worker.pid])

        print(f"reset request, {args.requests} each (ms)        median   max")
        for label, (known, unknown) in (("worker stopped", alone), ("worker running", beside)):
            print(f"  {label}, address with an account {statistics.median(known):6.1f} {max(known):6.1f}")
            print(f"  {label}, address without one     {statistics.median(unknown):6.1f} {max(unknown):6.1f}")
        p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
        median = statistics.median(latencies)
        print(f"commit to SMTP, {args.mails} mails (ms): median {median:.1f}, p99 {p99:.1f}")
        print(f"worker resident memory: {worker_mb:.0f} MB")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=40)
        app.stop()
        sink.stop()


if __name__ == "__main__":
    main()
