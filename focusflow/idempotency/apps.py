from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    """Safe retries: the stored first answers to requests sent with an `Idempotency-Key`."""

    name = "focusflow.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency"
