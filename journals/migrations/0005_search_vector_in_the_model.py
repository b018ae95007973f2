"""The search vector and its index of migration 0004, now declared in the model
(`Journal.search_vector`, `journal_search_idx`): the column and index 0004 wrote by hand are
dropped and the model's own, the same text parsed the same way, are added in their place, in one
transaction (PostgreSQL computes the vector of every journal again)."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("focus_sessions", "0006_exclusion_constraint_in_the_model"),
        ("journals", "0004_stored_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            'DROP INDEX "journal_search_idx"; ALTER TABLE "journals_journal" DROP COLUMN "search_vector"',
            reverse_sql=(
                'ALTER TABLE "journals_journal" ADD COLUMN "search_vector" tsvector '
                "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED; "
                'CREATE INDEX "journal_search_idx" ON "journals_journal" USING gin ("user_id", "search_vector")'
            ),
        ),
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
    ]
