"""Stateful load through nginx: virtual users that log in, run focus sessions, write and
search journals and read the quote, as the apps do.

Every write carries an Idempotency-Key and is retried with the same key until it gets a
definitive answer (not a network error, 429, 502, 503 or 504), as a well-behaved client does,
so a failover or a database outage must end with every write applied exactly once. Each user
records what the server confirmed, for the check against the database afterwards.
"""

import random
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field

from deploy.check.client import Client, Reply

RETRYABLE = {0, 429, 502, 503, 504}
# Runs started and not yet stopped: a check that fails midway leaves its run here, and the runner
# stops it (stop_unfinished_runs) before the next check, which would otherwise meet its traffic
# (a soak's instance restart answering it 502s, a backup taken while it still writes).
_running: set["LoadRun"] = set()

WORDS = ["focus", "deep", "work", "reading", "writing", "calm", "flow", "plan", "review", "walk", "music"]


@dataclass
class Record:
    started: float
    elapsed: float
    status: int
    label: str
    code: str | None = None
    error: str = ""


@dataclass
class UserOutcome:
    email: str
    session_ids: set[int] = field(default_factory=set)
    journal_ids: set[int] = field(default_factory=set)
    # When the client had the server's 201 for each session it started and journal it wrote,
    # ("session" | "journal", id) -> time.monotonic(): from there to its webhook event.
    confirmed_at: dict[tuple[str, int], float] = field(default_factory=dict)
    unresolved_writes: int = 0  # gave up without a definitive answer (the run ended)
    unexpected: list[str] = field(default_factory=list)


class LoadRun:
    """Runs `users` virtual users until `stop()`; `records` holds every HTTP exchange."""

    def __init__(
        self,
        base_url: str,
        accounts: list[tuple[str, str]],
        *,
        mix: str,
        first_source: int = 10,
        relogin_seconds: float = 45,
        seed: int = 1,
    ) -> None:
        self.base_url = base_url
        self.mix = mix
        self.records: list[Record] = []
        self.stopping = threading.Event()
        self.hard_stop = threading.Event()
        self.users = [
            VirtualUser(
                self,
                email,
                password,
                source=f"127.0.{1 + (first_source + i) // 250}.{2 + (first_source + i) % 250}",
                rng=random.Random(seed * 1000 + i),
                relogin_seconds=relogin_seconds,
            )
            for i, (email, password) in enumerate(accounts)
        ]

    def start(self) -> "LoadRun":
        self.started = time.monotonic()
        _running.add(self)
        for user in self.users:
            user.start()
            time.sleep(0.05)  # users arrive over a moment, not in one burst of logins
        return self

    def stop(self, *, drain_seconds: float = 60) -> None:
        """Stop starting new operations; let retries of unfinished writes run for a while."""
        self.stopping.set()
        _running.discard(self)
        deadline = time.monotonic() + drain_seconds
        for user in self.users:
            user.join(timeout=max(0.1, deadline - time.monotonic()))
        self.hard_stop.set()
        for user in self.users:
            user.join(timeout=30)
        self.stopped = time.monotonic()

    def record(self, reply: Reply, label: str) -> None:
        self.records.append(
            Record(
                reply.started, reply.elapsed, reply.status, label, reply.code if reply.status >= 400 else None
            )
        )
        if reply.status == 0:
            self.records[-1].error = reply.error

    @property
    def outcomes(self) -> list[UserOutcome]:
        return [user.outcome for user in self.users]


class VirtualUser(threading.Thread):
    def __init__(self, run: LoadRun, email: str, password: str, *, source: str, rng, relogin_seconds: float):
        super().__init__(daemon=True, name=f"vu-{email}")
        self.run_ = run
        self.password = password
        self.client = Client(run.base_url, source=source, timeout=60)
        self.rng = rng
        self.relogin_seconds = relogin_seconds
        self.outcome = UserOutcome(email)
        self.logged_in_at = 0.0
        self.active: int | None = None
        self.paused = False

    # --- plumbing -------------------------------------------------------------------------------

    def call(self, method: str, path: str, label: str, **kwargs) -> Reply:
        reply = self.client.request(method, path, **kwargs)
        self.run_.record(reply, label)
        return reply

    def write(self, method: str, path: str, label: str, body=None) -> Reply | None:
        """A keyed write, retried with the same key until it has a definitive answer."""
        key = f"{label}-{uuid.uuid4()}"
        while not self.run_.hard_stop.is_set():
            reply = self.call(method, path, label, json_body=body, headers={"Idempotency-Key": key})
            if reply.status not in RETRYABLE:
                return reply
            self.pause_before_retry(reply)
        self.outcome.unresolved_writes += 1
        return None

    def pause_before_retry(self, reply: Reply) -> None:
        try:
            wait = float(reply.headers.get("retry-after", "0.2"))
        except ValueError:
            wait = 0.2
        # Honour Retry-After, but poll faster so recovery times can be measured.
        self.run_.hard_stop.wait(min(max(wait, 0.05), 0.5))

    def read(self, path: str, label: str) -> Reply:
        while True:
            reply = self.call("GET", path, label)
            if reply.status not in RETRYABLE or self.run_.stopping.is_set():
                return reply
            self.pause_before_retry(reply)

    def unexpected(self, reply: Reply | None, what: str) -> None:
        if reply is not None and len(self.outcome.unexpected) < 20:
            self.outcome.unexpected.append(f"{what}: {reply.status} {reply.body[:200]!r}")

    # --- what a user does -----------------------------------------------------------------------

    def login(self) -> bool:
        while not self.run_.hard_stop.is_set():
            body = {"email": self.outcome.email, "password": self.password}
            reply = self.call("POST", "/api/users/login/", "login", json_body=body, auth=False)
            if reply.status == 200:
                self.client.token = reply.json()["access"]
                self.logged_in_at = time.monotonic()
                return True
            if reply.status not in RETRYABLE:
                self.unexpected(reply, "login")
                return False
            self.pause_before_retry(reply)
        return False

    def run(self) -> None:
        if not self.login():
            return
        self.sync_active()
        while not self.run_.stopping.is_set():
            if time.monotonic() - self.logged_in_at > self.relogin_seconds and not self.login():
                return
            self.step()
        self.client.close()

    def sync_active(self) -> None:
        reply = self.read("/api/sessions/active/", "active")
        if reply.status == 200:
            self.active, self.paused = reply.json()["id"], reply.json()["is_paused"]
            self.outcome.session_ids.add(self.active)

    def step(self) -> None:
        choice = self.rng.random()
        if self.run_.mix == "writes":
            if choice < 0.55:
                self.session_step()
            elif choice < 0.9:
                self.journal_create()
            else:
                self.read("/api/sessions/active/", "active")
            return
        # The soak's mix: about a third writes, the rest reads.
        if choice < 0.25:
            self.session_step()
        elif choice < 0.37:
            self.journal_create()
        elif choice < 0.55:
            self.read("/api/journals/?page_size=20", "journal-list")
        elif choice < 0.70:
            self.read(f"/api/journals/?search={self.rng.choice(WORDS)}", "journal-search")
        elif choice < 0.85:
            self.read("/api/quotes/today/", "quote")
        elif choice < 0.95:
            self.read("/api/sessions/active/", "active")
        else:
            self.read("/api/sessions/history/?page_size=10", "history")

    def session_step(self) -> None:
        if self.active is None:
            reply = self.write("POST", "/api/sessions/start/", "start", {"label": self.rng.choice(WORDS)})
            if reply is not None and reply.status == 201:
                self.active, self.paused = reply.json()["id"], False
                self.outcome.session_ids.add(self.active)
                self.outcome.confirmed_at["session", self.active] = reply.started + reply.elapsed
            elif reply is not None:
                self.unexpected(reply, "start")
                self.sync_active()
            return
        action = self.rng.choice(["stop", "resume" if self.paused else "pause"])
        reply = self.write("POST", f"/api/sessions/{action}/", action)
        if reply is not None and reply.status == 200:
            if action == "stop":
                self.active = None
            else:
                self.paused = action == "pause"
        elif reply is not None:
            self.unexpected(reply, action)
            self.active = None
            self.sync_active()

    def journal_create(self) -> None:
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(3, 12)))
        body = {"content": f"{words} ({uuid.uuid4().hex[:8]})"}
        reply = self.write("POST", "/api/journals/create/", "journal-create", body)
        if reply is not None and reply.status == 201:
            self.outcome.journal_ids.add(reply.json()["id"])
            self.outcome.confirmed_at["journal", reply.json()["id"]] = reply.started + reply.elapsed
        elif reply is not None:
            self.unexpected(reply, "journal-create")


# --- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(records: list[Record]) -> dict:
    latencies = [r.elapsed for r in records if r.status]
    statuses: dict[int, int] = {}
    for r in records:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "requests": len(records),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else float("nan"),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "no_answer": statuses.get(0, 0),
    }


def stop_unfinished_runs() -> int:
    """Stop, without draining, every run a failed check left going; how many there were."""
    unfinished = list(_running)
    for run in unfinished:
        run.stop(drain_seconds=0)
    return len(unfinished)
