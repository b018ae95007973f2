from django.core.management.base import BaseCommand

from users.personal_tokens import personal_tokens_purge


class Command(BaseCommand):
    help = "Delete expired personal access tokens (run daily)."

    def handle(self, *args, **options):
        deleted = personal_tokens_purge()
        self.stdout.write(f"Deleted {deleted} expired personal access tokens.")
