"""The quotes that ship in fixtures/quotes.json, loaded as `make run` loads them."""

import json
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from quotes.models import Quote

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "quotes.json"
SOURCES = FIXTURE.with_name("QUOTES_SOURCES.md")
ANONYMOUS = "Anonymous / traditional (author: null)"  # how the sources file lists author null

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


def test_the_corrected_attributions_stay_corrected():
    quotes = json.loads(FIXTURE.read_text(encoding="utf-8"))
    # Jack London's own words from "Getting into Print", not the modern "go after it" rewording
    assert not [q for q in quotes if "go after it with a club" in q["text"]]
    assert [q["author"] for q in quotes if "light out after it with a club" in q["text"]] == ["Jack London"]
    # Ben Zoma's (Pirkei Avot 4:1); Franklin only borrowed it
    assert [q["author"] for q in quotes if q["text"].startswith("Who is wise?")] == ["Ben Zoma"]
    # a proverb that Augustus used to quote, not his own saying
    assert [q["author"] for q in quotes if "make haste slowly" in q["text"].casefold()] == [None]
    assert "Augustus" not in {q["author"] for q in quotes}


def test_cuts_are_marked_one_way():
    """A cut is "..." (never the single character "…"); a quote that opens inside a sentence
    goes on in lower case, as the sentence does, unless the word is "I"."""
    texts = [q["text"] for q in json.loads(FIXTURE.read_text(encoding="utf-8"))]
    assert not [t for t in texts if "\u2026" in t or re.search(r"\.{4}|\. \.", t)]
    assert not [t for t in texts if t.startswith("...") and not re.match(r"\.\.\.([a-z]|I\b)", t)]


def test_the_sources_file_counts_each_author_as_the_fixture_does():
    quotes = json.loads(FIXTURE.read_text(encoding="utf-8"))
    text = SOURCES.read_text(encoding="utf-8")
    assert f"holds {len(quotes)} quotes" in text
    section = text.split("## Sources by author\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^- \*\*(.+?)\*\* \((\d+)\): (.+)$", section, re.MULTILINE)
    assert len(rows) == section.count("\n- "), "a line of the list does not parse"
    listed = Counter()
    for name, count, sources in rows:
        author = None if name == ANONYMOUS else name
        assert author not in listed, f"{name} is listed twice"
        # "*Walden (1854)* ×22; *Letters to H. G. O. Blake*": a source without "×n" counts once
        per_source = [int(times or 1) for times in re.findall(r"\*[^*]+\*(?: ×(\d+))?", sources)]
        assert sum(per_source) == int(count), f"{name}: the sources add up to {sum(per_source)}, not {count}"
        listed[author] = int(count)
    assert listed == Counter(q["author"] for q in quotes)
