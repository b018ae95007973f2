from django.core.management.base import BaseCommand

from users.recovery import links_purge


class Command(BaseCommand):
    help = "Delete expired password-reset, verification and email-change links (run daily)."

    def handle(self, *args, **options):
        deleted = links_purge()
        self.stdout.write(f"Deleted {deleted} expired account links.")
