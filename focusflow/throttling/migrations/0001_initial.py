"""The model this app took over from the platform app (`focusflow`), whose migrations made its
table: this migration only tells Django that the model is now here (no SQL), and
`focusflow.0005` lets go of it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("focusflow", "0004_throttlecounter")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ThrottleCounter",
                    fields=[
                        (
                            "key",
                            models.CharField(
                                help_text="<scope>:<hash of the identity>",
                                max_length=64,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "window_index",
                            models.BigIntegerField(
                                help_text="Seconds since the epoch, divided by the period."
                            ),
                        ),
                        ("count", models.PositiveIntegerField()),
                        (
                            "expires_at",
                            models.DateTimeField(db_index=True, help_text="The end of the window."),
                        ),
                    ],
                    options={
                        "db_table": "focusflow_throttlecounter",
                    },
                ),
            ],
        ),
    ]
