"""The data migration that corrects quotes loaded from the earlier shipped file."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

CORRECTIONS = importlib.import_module("quotes.migrations.0002_correct_shipped_quotes").CORRECTIONS
BEFORE, AFTER = [("quotes", "0001_initial")], [("quotes", "0002_correct_shipped_quotes")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_wordings_are_corrected_in_place_or_retired_when_the_new_one_is_stored_too():
    apps = _migrate(BEFORE)
    Quote = apps.get_model("quotes", "Quote")
    (london_text, london_author, london_new_text, london_new_author) = next(
        c for c in CORRECTIONS if c[1] == "Jack London"
    )
    (wise_text, wise_author, wise_new_text, wise_new_author) = next(
        c for c in CORRECTIONS if c[0].startswith("Who is wise")
    )
    london = Quote.objects.create(text=london_text, author=london_author)
    wise = Quote.objects.create(text=wise_text, author=wise_author)
    Quote.objects.create(text=wise_new_text, author=wise_new_author)  # loaded from the new file too
    try:
        apps = _migrate(AFTER)
        Quote = apps.get_model("quotes", "Quote")
        london = Quote.objects.get(pk=london.pk)
        assert (london.text, london.author, london.is_active) == (london_new_text, london_new_author, True)
        wise = Quote.objects.get(pk=wise.pk)
        assert (wise.text, wise.author, wise.is_active) == (wise_text, wise_author, False)
        assert Quote.objects.filter(text=wise_new_text, is_active=True).count() == 1
    finally:
        _migrate(AFTER)
