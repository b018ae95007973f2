"""The model this app took over from the platform app (`focusflow`), whose migrations made its
table: this migration only tells Django that the model is now here (no SQL), and
`focusflow.0005` lets go of it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("focusflow", "0004_throttlecounter"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Tombstone",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(max_length=16)),
                        ("object_id", models.BigIntegerField()),
                        ("sync_seq", models.BigIntegerField()),
                        (
                            "deleted_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "focusflow_tombstone",
                        "indexes": [models.Index(fields=["user", "sync_seq"], name="tombstone_sync_idx")],
                    },
                ),
            ],
        ),
    ]
