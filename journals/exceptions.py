from rest_framework import status

from focusflow.api.exceptions import DomainError


class JournalLocked(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "This journal is tied to a focus session and can no longer be changed or deleted."
    default_code = "journal_locked"
