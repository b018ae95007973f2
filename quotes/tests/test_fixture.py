"""The quotes that ship in fixtures/quotes.json, loaded as `make run` loads them."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from quotes.models import Quote

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "quotes.json"

pytestmark = pytest.mark.django_db


def test_the_shipped_file_holds_a_year_of_distinct_quotes():
    quotes = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(quotes) >= 365
    assert all(set(q) == {"text", "author"} for q in quotes)
    texts = {" ".join(q["text"].split()).casefold() for q in quotes}
    assert len(texts) == len(quotes), "a quote appears twice"
    assert all(q["author"] is None or q["author"].strip() for q in quotes)


def test_the_shipped_file_loads_completely_and_reloads_as_a_no_op():
    out = StringIO()
    call_command("load_quotes", str(FIXTURE), stdout=out)
    count = len(json.loads(FIXTURE.read_text(encoding="utf-8")))
    assert Quote.objects.count() == count
    assert f"Created {count} quotes" in out.getvalue()
    call_command("load_quotes", str(FIXTURE), stdout=StringIO())
    assert Quote.objects.count() == count
