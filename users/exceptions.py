from rest_framework import status

from focusflow.api.exceptions import DomainError


class ResetInvalid(DomainError):
    """One answer for every reset token or code that does not work, whatever the reason:
    unknown, used, expired, voided by a newer request, out of tries, or no such account."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This reset link or code is invalid or has expired. Ask for a new one."
    default_code = "reset_invalid"


class VerificationInvalid(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This confirmation link or code is invalid or has expired. Ask for a new one."
    default_code = "verification_invalid"
