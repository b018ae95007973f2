"""`make deploy-test`: FocusFlow as it runs in production, checked end to end.

    .venv/bin/python -m deploy.check [--soak-seconds 180] [--keep]

Debian's nginx (deploy/nginx/focusflow.conf) on a loopback port in front of two gunicorn
instances (gunicorn.conf.py), one PostgreSQL database and one Redis database of its own,
everything on free ports. Through nginx it checks the API end to end, the static pages, the
JSON errors nginx gives itself, the login limit across instances, a failover under load, a
database outage under load, the worker's mail across an SMTP outage (a real SMTP server on a
free port), webhooks delivered by the worker to a receiver on loopback while an instance is
killed (none lost, none sent twice under different ids), a soak, and a backup restored into
a fresh database; then it
prints the figures (docs/operations.md quotes them) and exits non-zero if any check failed.

DEPLOY_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/focusflow_deploy_test)
and DEPLOY_TEST_REDIS_URL (default redis://127.0.0.1:6379/13) choose where its data goes;
both are emptied first.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from deploy.check import checks, load
from deploy.check.stack import ROOT, Stack

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/focusflow_deploy_test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--soak-seconds", type=float, default=180)
    parser.add_argument("--only", nargs="*", help="run only these checks (for development)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and the database")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="focusflow-deploy-test-"))
    stack = Stack(
        database_url=os.environ.get("DEPLOY_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("DEPLOY_TEST_REDIS_URL") or DEFAULT_REDIS_URL,
        workdir=workdir,
    )
    plan = [
        ("files", "systemd units and the environment template", lambda: checks.deploy_files(stack, workdir)),
        ("api", "the API end to end through nginx", lambda: checks.api_end_to_end(stack)),
        ("static", "static pages (admin, API docs) from nginx", lambda: checks.static_pages(stack)),
        (
            "errors",
            "errors nginx and gunicorn give themselves, as JSON: 413, 414, 431, 405, 400",
            lambda: checks.json_errors(stack),
        ),
        ("slow-clients", "slow request bodies hold no gunicorn thread", lambda: checks.slow_clients(stack)),
        ("login-limit", "the login limit across both instances", lambda: checks.login_limit(stack)),
        ("gateway", "502 and 504 as JSON, keyed retries after a 504", lambda: checks.gateway_errors(stack)),
        ("failover", "an instance killed under load", lambda: checks.failover(stack)),
        ("rolling", "a rolling reload and restart under load", lambda: checks.rolling_deploy(stack)),
        ("database", "the database cut away under load", lambda: checks.database_outage(stack)),
        ("partition", "a silent network partition under a query", lambda: checks.network_partition(stack)),
        ("redis", "Redis refusing connections", lambda: checks.redis_outage(stack)),
        (
            "mail",
            "the worker: mail through nginx and a real SMTP server, which goes down for a minute",
            lambda: checks.mail(stack),
        ),
        (
            "webhooks",
            "webhooks delivered by the worker while an instance is killed",
            lambda: checks.webhooks(stack),
        ),
        (
            "events",
            "live updates: 1,000 idle streams through nginx, a Redis restart under them",
            lambda: checks.events(stack),
        ),
        (
            "soak",
            f"soak: {args.soak_seconds:.0f} s of mixed traffic, 32 connections",
            lambda: soak(stack, args),
        ),
        (
            "backup",
            "pg_dump and pg_restore into a fresh database",
            lambda: checks.backup_restore(stack, workdir),
        ),
    ]
    if args.only:
        plan = [step for step in plan if step[0] in args.only]

    results: dict[str, dict] = {}
    failed: list[str] = []
    began = time.monotonic()
    try:
        print(f"deploy-test: stack in {workdir}", flush=True)
        stack.setup_django()
        stack.prepare()
        stack.start_proxy()
        stack.start_instances()
        stack.start_events()
        stack.start_nginx()
        print(
            f"deploy-test: nginx {stack.url} -> gunicorn "
            + ", ".join(f"{i.name} :{i.port}" for i in stack.instances)
            + f" ({stack.workers} workers x {stack.threads} threads)"
            + ", /api/events/ -> uvicorn "
            + ", ".join(f"{e.name} :{e.port}" for e in stack.events)
            + f" -> PostgreSQL (via proxy :{stack.proxy_port})"
            + f" + Redis {stack.redis_url} (via proxy :{stack.redis_proxy_port})"
            + f" ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
        for name, title, check in plan:
            started = time.monotonic()
            print(f"- {title} ...", flush=True)
            try:
                results[name] = check()
                print(f"  ok ({time.monotonic() - started:.0f} s): {json.dumps(results[name])}", flush=True)
            except Exception as exc:
                failed.append(name)
                results[name] = {"failed": str(exc)}
                print(f"  FAILED ({time.monotonic() - started:.0f} s): {exc}", flush=True)
                if not isinstance(exc, checks.Failed):
                    traceback.print_exc()
                # What the failed check left behind must not fail the next ones too.
                if stopped := load.stop_unfinished_runs():
                    print(f"  (stopped the load it left running: {stopped} run)", flush=True)
                stack.database("up")
                stack.redis("up")
                stack.smtp_up()
    except Exception:
        failed.append("setup")
        traceback.print_exc()
    finally:
        stack.close()
        if not args.keep and not failed:
            stack.drop_database()
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)

    report(results, failed, time.monotonic() - began, stack.connect_timeout)
    saved = ROOT / "deploy" / "results" / "last-deploy-test.json"
    saved.parent.mkdir(exist_ok=True)
    saved.write_text(json.dumps(results, indent=2) + "\n")
    if failed:
        print(f"deploy-test: FAILED: {', '.join(failed)} (logs in {workdir})", flush=True)
        return 1
    print(f"deploy-test: passed in {time.monotonic() - began:.0f} s", flush=True)
    return 0


def soak(stack: Stack, args) -> dict:
    return checks.soak(stack, seconds=args.soak_seconds)


def report(results: dict, failed: list[str], took: float, stack_timeout: int) -> None:
    print("\n=== figures ===")
    failover = results.get("failover", {})
    if "requests" in failover:
        f = failover
        print(
            f"failover: {f['requests']} requests under load; instance killed; "
            f"{f['failed_in_flight']} failed (in flight, {f['failed_statuses']}); "
            f"none after it was dead; {f['writes_confirmed']} writes, 0 duplicates; "
            f"restart {f['restart_s']} s, traffic back {f['traffic_back_after_restart_s']} s after"
        )
    outage = results.get("database", {})
    for mode in ("refuse", "blackhole"):
        if mode in outage:
            f = outage[mode]
            print(
                f"database {mode}: {f['503s']} x 503 database_unavailable, p50 {f['p50_503_ms']} ms, "
                f"max {f['max_503_ms']} ms; first success {f['first_success_after_restore_ms']} ms "
                "after restore"
            )
    partitioned = results.get("partition", {})
    if "query_in_flight_failed_after_s" in partitioned:
        print(
            f"partition (packets dropped): a query in flight failed after "
            f"{partitioned['query_in_flight_failed_after_s']} s, a new connection after "
            f"{partitioned['new_connection_failed_after_s']} s, and the server rolled back the vanished "
            f"client's transaction after {partitioned['orphaned_transaction_rolled_back_after_s']} s "
            f"(DB_CONNECT_TIMEOUT {stack_timeout} s)"
        )
    mailed = results.get("mail", {})
    if "commit_to_smtp_p50_ms" in mailed:
        f = mailed
        print(
            f"mail: {f['verification_mails']} verification mails, commit to SMTP p50 "
            f"{f['commit_to_smtp_p50_ms']} ms, p99 {f['commit_to_smtp_p99_ms']} ms"
        )
    if "smtp_down_s" in mailed:
        f = mailed
        after = f.get("reset_mails_after_smtp_back_s") or ["-"]
        print(
            f"mail, SMTP down {f['smtp_down_s']} s: {f['resets_while_down']} reset requests answered 202 in "
            f"p50 {f['reset_202_p50_ms_smtp_down']} ms, max {f['reset_202_max_ms_smtp_down']} ms "
            f"(p50 {f['reset_202_p50_ms_smtp_up']} ms with SMTP up); "
            f"attempts meanwhile {f['attempts_while_down']}, oldest waiting {f['oldest_waiting_mail_s']} s; "
            f"each reset mail arrived once, {after[0]}-{after[-1]} s after SMTP was back"
        )
    if "worker_rss_end_mb" in mailed:
        f = mailed
        print(
            f"worker: RSS {f['worker_rss_start_mb']} MB at start, {f['worker_rss_end_mb']} MB at the end; "
            f"{f['worker_db_connections']} database connections; "
            f"exit 0 {f['worker_sigterm_exit_s']} s after SIGTERM"
        )
    hooked = results.get("webhooks", {})
    if "events_received" in hooked:
        f = hooked
        print(
            f"webhooks: {f['accounts']} accounts, {f['requests']} requests under load, an instance killed "
            f"({f['failed_in_flight']} failed in flight); {f['events_received']} events received, "
            f"{f['distinct_ids']} ids, none lost, none under two ids; {f['retries']} sent again under "
            f"their id ({f['receiver_failures']} failed by the receiver, again after "
            f"{min(f['retried_after_s'])}-{max(f['retried_after_s'])} s); commit to receiver p50 "
            f"{f['commit_to_receiver_p50_ms']} ms, p99 {f['commit_to_receiver_p99_ms']} ms under load, "
            f"p50 {f['quiet_commit_to_receiver_p50_ms']} ms one write at a time"
        )
    soaked = results.get("soak", {})
    if "requests" in soaked:
        f = soaked
        print(
            f"soak: {f['seconds']:.0f} s, {f['users']} connections, {f['requests']} requests "
            f"({f['requests_per_s']}/s); p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"max {f['max_ms']} ms; 5xx {f['server_errors']}; statuses {f['statuses']}; "
            f"worker RSS {f['worker_rss_minute1_mb']} MB at minute 1 -> {f['worker_rss_end_mb']} MB "
            f"at the end ({f['memory_growth_pct']:+}%, {f['workers']} workers)"
        )
    rolling = results.get("rolling", {})
    if "requests" in rolling:
        print(
            f"rolling deploy: {rolling['requests']} requests under load, 0 failed, while each instance was "
            f"reloaded ({rolling['reload_s']} s) then restarted ({rolling['restart_s']} s)"
        )
    backup = results.get("backup", {})
    if "rows" in backup:
        print(f"backup: {backup['rows']} restored identical; dump {backup['dump_mb']} MB")
    print(f"total {took:.0f} s; {'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'}")


if __name__ == "__main__":
    sys.exit(main())
