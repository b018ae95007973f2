"""Tag names compared by Unicode caseless matching, and merged tags remembered. An expand step
(docs/operations.md, "Migrations"): the release before it keeps working on this schema.

`name_key`, a generated `lower(name)`, was the uniqueness key: PostgreSQL's lower() is not case
folding ("Straße" and "STRASSE", "ΣΑΣ" and "σας" stayed two names) and, under a "C" locale,
changes nothing beyond ASCII. `name_fold` (nullable: the release before does not write it) is
the new key, filled here in batches, each in its own transaction, and by the model from now
on. A tag whose folded name an older tag of the same user already has (possible only under the
old key) is left without one, so nothing is renamed behind its owner's back; it is refused a
second time when renamed. `name_key` and its constraint stay until a later release.

`DeletedTag.merged_into`: the tag a merged tag went into, for a late upload that names it.
"""

import unicodedata

from django.db import migrations, models, transaction

BATCH = 1000


def fill_folds(apps, schema_editor):
    Tag = apps.get_model("focus_sessions", "Tag")
    after = 0
    while True:
        with transaction.atomic():
            batch = list(
                Tag.objects.filter(pk__gt=after, name_fold__isnull=True)
                .order_by("pk")
                .values_list("pk", "user_id", "name")[:BATCH]
            )
            if not batch:
                return
            for pk, user_id, name in batch:
                fold = unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())
                if not Tag.objects.filter(user_id=user_id, name_fold=fold).exists():
                    Tag.objects.filter(pk=pk).update(name_fold=fold)
            after = batch[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("focus_sessions", "0008_tags_in_postgres_terms")]

    operations = [
        migrations.AddField(
            model_name="tag", name="name_fold", field=models.TextField(editable=False, null=True)
        ),
        migrations.AddField(
            model_name="deletedtag", name="merged_into", field=models.BigIntegerField(blank=True, null=True)
        ),
        migrations.RunPython(fill_folds, migrations.RunPython.noop, atomic=False),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                fields=("user", "name_fold"), name="tag_name_fold_unique_per_user"
            ),
        ),
    ]
