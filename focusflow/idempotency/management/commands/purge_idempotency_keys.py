from django.core.management.base import BaseCommand

from focusflow.idempotency.keys import IDEMPOTENCY_TTL, idempotency_records_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than their 24-hour replay window (run daily)."

    def handle(self, *args, **options):
        deleted = idempotency_records_purge(older_than=IDEMPOTENCY_TTL)
        self.stdout.write(f"Deleted {deleted} expired idempotency records.")
