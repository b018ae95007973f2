from django.core.management.base import BaseCommand

from users.recovery import links_purge
from users.services import pending_email_changes_expire


class Command(BaseCommand):
    help = (
        "Delete expired password-reset, verification and email-change links, and clear the "
        "pending email of changes whose link expired (run daily)."
    )

    def handle(self, *args, **options):
        deleted = links_purge()
        expired = pending_email_changes_expire()
        self.stdout.write(
            f"Deleted {deleted} expired account links; {expired} pending email changes expired."
        )
