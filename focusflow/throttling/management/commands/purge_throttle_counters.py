from django.core.management.base import BaseCommand

from focusflow.throttling.limits import throttle_counters_purge


class Command(BaseCommand):
    help = "Delete rate-limit counters whose window has ended (database store; run daily)."

    def handle(self, *args, **options):
        deleted = throttle_counters_purge()
        self.stdout.write(f"Deleted {deleted} expired rate-limit counters.")
