from django.conf import settings
from django.core.management.base import BaseCommand

from focusflow.sync.feed import tombstones_purge


class Command(BaseCommand):
    help = (
        "Delete sync tombstones (records of deleted sessions and journals) older than "
        "SYNC_TOMBSTONE_DAYS; sync cursors from before them then answer 410 (run daily)."
    )

    def handle(self, *args, **options):
        deleted = tombstones_purge()
        days = settings.SYNC_TOMBSTONE_RETENTION.days
        self.stdout.write(f"Deleted {deleted} tombstones older than {days} days.")
