from django.core.management.base import BaseCommand

from focusflow.webhooks.services import webhook_messages_purge


class Command(BaseCommand):
    help = "Delete delivered or dropped webhook events older than 30 days, with their log (run daily)."

    def handle(self, *args, **options):
        deleted = webhook_messages_purge()
        self.stdout.write(f"Deleted {deleted} old webhook events.")
