"""Store every address in its one normalised form (users.emails.normalize_email).

Rows that would become the same address, or that cannot be normalised (an invisible
character, a domain IDNA refuses), stop the migration with a list of them and change nothing:
which of two look-alike accounts is the real one is for a person to decide (merge or delete
one in the admin or a shell, then migrate again).
"""

from django.core.management.base import CommandError
from django.db import migrations

from users.emails import InvalidEmail, normalize_email


def normalise_emails(apps, schema_editor):
    User = apps.get_model("users", "User")
    changes: dict[int, tuple[str, str]] = {}  # pk: (stored, normalised)
    problems: list[str] = []
    for pk, email in User.objects.order_by("pk").values_list("pk", "email").iterator(chunk_size=2000):
        try:
            normalised = normalize_email(email)
        except InvalidEmail as exc:
            problems.append(f"  user {pk} {email!r}: {exc.messages[0]}")
            continue
        if normalised != email:
            changes[pk] = (email, normalised)

    # Unchanged rows are unique already (the constraint); a change collides with a row that
    # keeps that address, or with another change to it.
    targets: dict[str, list[int]] = {}
    for pk, (_, normalised) in changes.items():
        targets.setdefault(normalised, []).append(pk)
    kept = User.objects.filter(email__in=list(targets)).exclude(pk__in=list(changes))
    for pk, email in kept.values_list("pk", "email"):
        targets[email].append(pk)
    for normalised, pks in sorted(targets.items()):
        if len(pks) > 1:
            named = ", ".join(
                f"user {pk} {changes[pk][0] if pk in changes else normalised!r}" for pk in sorted(pks)
            )
            problems.append(f"  {normalised!r} would be the address of: {named}")

    if problems:
        raise CommandError(
            "users.0004_normalise_emails: these accounts must be resolved by hand (merge or delete "
            "one of each pair, fix the address) before migrating again; nothing was changed:\n"
            + "\n".join(problems)
        )
    for pk, (_, normalised) in changes.items():
        User.objects.filter(pk=pk).update(email=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0003_sync_counters"),
    ]

    operations = [
        migrations.RunPython(normalise_emails, migrations.RunPython.noop, elidable=True),
    ]
