from django.core.management.base import BaseCommand

from users.tokens import revoked_token_families_purge


class Command(BaseCommand):
    help = "Delete revoked token families whose tokens have all expired (run daily)."

    def handle(self, *args, **options):
        deleted = revoked_token_families_purge()
        self.stdout.write(f"Deleted {deleted} expired token family revocations.")
