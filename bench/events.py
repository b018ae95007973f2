"""`make bench`, live updates: how long one change takes to reach every open stream of its account.

    .venv/bin/python bench/events.py [--changes 50]

On a scratch database (BENCH_DATABASE_URL) and Redis (BENCH_REDIS_URL): gunicorn with the
production config (2 workers) and one events process (uvicorn, as
deploy/systemd/focusflow-events@.service runs it). One account opens N streams (N = 1, the
baseline in this run, then 10 and 50, the most an account may hold); `--changes` times a journal
is created over the API, and each time the figure is from the request sent to the change received
on every one of the N streams: median and p99, and the p99 against N = 1's.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import DEFAULT_DATABASE, Server, recreate_database, server_env  # noqa: E402
from deploy.check.sse import SseStream  # noqa: E402
from deploy.check.stack import EventsInstance  # noqa: E402

PASSWORD = "correct-horse-battery-staple"
FAN_OUTS = (1, 10, 50)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def fan_out(app: Server, events: EventsInstance, token: str, streams: int, changes: int) -> list[float]:
    """Request sent to the change received on all `streams` streams, `changes` times (ms)."""
    opened = [
        await SseStream.open("127.0.0.1", events.port, "/api/events/", {"Authorization": f"Bearer {token}"})
        for _ in range(streams)
    ]
    try:
        await asyncio.gather(*(s.wait_for(lambda item: item[1] == "ready", timeout=10) for s in opened))
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{app.url}/api/journals/create/"
        times = []
        for n in range(changes + 5):  # the first five warm up
            sent = time.monotonic()
            response = await asyncio.to_thread(
                requests.post, url, json={"content": f"bench {n}"}, headers=headers
            )
            journal = response.json()["id"]
            arrivals = await asyncio.gather(
                *(
                    s.wait_for(lambda item, j=journal: item[1] == "change" and item[3]["id"] == j, timeout=5)
                    for s in opened
                )
            )
            if n >= 5:
                times.append((max(arrival[0] for arrival in arrivals) - sent) * 1000)
        return times
    finally:
        await asyncio.gather(*(s.close() for s in opened))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()

    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    env = {**server_env(database), "GUNICORN_LOG_LEVEL": "warning"}
    recreate_database(database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    app = Server("focusflow.wsgi", env, workers=2, health="/api/health/")
    events = EventsInstance("events", env, Path(os.devnull))
    events.start()
    try:
        body = {"email": "fan-out@example.com", "password": PASSWORD}
        assert requests.post(f"{app.url}/api/users/register/", json=body).status_code == 201
        token = requests.post(f"{app.url}/api/users/login/", json=body).json()["access"]
        results = {n: asyncio.run(fan_out(app, events, token, n, args.changes)) for n in FAN_OUTS}
        baseline = p99(results[1])
        print(f"fan-out: one change to N streams of one account, {args.changes} changes (ms)")
        print("  N     median     p99   p99 / N=1")
        for n, times in results.items():
            print(f"  {n:<3} {statistics.median(times):9.1f} {p99(times):7.1f} {p99(times) / baseline:9.2f}")
    finally:
        events.stop()
        app.stop()


if __name__ == "__main__":
    main()
