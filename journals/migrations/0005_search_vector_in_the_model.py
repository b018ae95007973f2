"""The search vector and its index of migration 0004, now declared in the model
(`Journal.search_vector`, `journal_search_idx`). State only: the column and index 0004 made
already parse the same text the same way (the model's expression adds a COALESCE that a NOT
NULL column never needs), and making them again would rewrite the journals table under an
exclusive lock."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("journals", "0004_stored_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="journal",
                    name="search_vector",
                    field=models.GeneratedField(
                        db_persist=True,
                        expression=django.contrib.postgres.search.SearchVector("content", config="english"),
                        output_field=django.contrib.postgres.search.SearchVectorField(),
                    ),
                ),
                migrations.AddIndex(
                    model_name="journal",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["user", "search_vector"], name="journal_search_idx"
                    ),
                ),
            ],
        ),
    ]
