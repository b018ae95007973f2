from django.core.management.base import BaseCommand
from procrastinate.contrib.django import app

from focusflow.jobs.housekeeping import HEARTBEAT_SECONDS, STALLED_AFTER_SECONDS

# NOTIFY wakes a worker for a job due now; a job deferred to later (a webhook's retry 5 s on)
# is found only by polling. procrastinate polls every 5 s, which could make the first retry
# come at 10 s; at 1 s it comes within about 6 s, for one cheap query a second while idle.
POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Run the background worker: emails, webhook deliveries and the housekeeping schedule. "
        "Run as many as you like, on as many machines; SIGTERM finishes the jobs in hand first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency", type=int, default=4, help="Jobs run at once by this process (default 4)."
        )
        parser.add_argument(
            "--shutdown-timeout",
            type=float,
            default=30,
            help="Seconds SIGTERM waits for async jobs in hand (the stalled-job sweep) before "
            "cancelling them (default 30). Jobs that are plain functions (every email) are always "
            "let finish.",
        )

    def handle(self, *args, concurrency: int, shutdown_timeout: float, **options):
        # Django's connection serves deferring, inside requests' transactions; the worker
        # needs its own asynchronous connections (psycopg 3), with LISTEN/NOTIFY to hear of new
        # jobs at once.
        with app.replace_connector(app.connector.get_worker_connector()):
            app.run_worker(
                concurrency=concurrency,
                install_signal_handlers=True,
                shutdown_graceful_timeout=shutdown_timeout,
                listen_notify=True,
                fetch_job_polling_interval=POLL_SECONDS,
                delete_jobs="successful",
                update_heartbeat_interval=HEARTBEAT_SECONDS,
                stalled_worker_timeout=STALLED_AFTER_SECONDS,
            )
