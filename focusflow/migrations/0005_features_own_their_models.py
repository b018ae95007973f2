"""The feature models move to the features' own apps (`sync`, `idempotency`, `throttling`):
their tables stay as they are (no SQL here), the platform app forgets the models, and the
content types (and so the admin permissions) follow them."""

from django.db import migrations

MOVED = {"tombstone": "sync", "idempotencyrecord": "idempotency", "throttlecounter": "throttling"}


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        old = ContentType.objects.filter(app_label="focusflow", model=model)
        if old.exists():  # a new one made meanwhile (`migrate sync` alone) gives way to it
            ContentType.objects.filter(app_label=app_label, model=model).delete()
            old.update(app_label=app_label)


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        ContentType.objects.filter(app_label=app_label, model=model).update(app_label="focusflow")


class Migration(migrations.Migration):
    dependencies = [
        ("focusflow", "0004_throttlecounter"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sync", "0001_initial"),
        ("idempotency", "0001_initial"),
        ("throttling", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Tombstone"),
                migrations.DeleteModel(name="IdempotencyRecord"),
                migrations.DeleteModel(name="ThrottleCounter"),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
