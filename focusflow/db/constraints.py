"""What the database said when it refused a write."""

from django.db import IntegrityError


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint or unique index a write violated, as PostgreSQL reports it
    (services turn their own constraints' refusals into the contract's errors)."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)
