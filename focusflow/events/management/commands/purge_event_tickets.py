from django.core.management.base import BaseCommand

from focusflow.events.tickets import event_tickets_purge


class Command(BaseCommand):
    help = "Delete events tickets that expired unused (the worker runs this daily)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Deleted {event_tickets_purge()} expired events tickets.")
