"""`manage.py load_quotes PATH [--dry-run]`: what ops see when loading quote files."""

import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from quotes.models import Quote
from quotes.storing import quotes_load
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def load(path: Path, *args: str, stderr: io.StringIO | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command("load_quotes", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def load_error(path: Path, *args: str) -> tuple[str, str]:
    """(the CommandError's one line, what was printed to stderr before it)"""
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("load_quotes", str(path), *args, stdout=io.StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


def stored() -> set[tuple[str, str | None]]:
    return set(Quote.objects.values_list("text", "author"))


@pytest.fixture
def write(tmp_path):
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    return write


def as_json(rows) -> str:
    return json.dumps(rows, ensure_ascii=False)


# --- Formats --------------------------------------------------------------------------------


def test_it_loads_a_json_file(write):
    path = write(
        "quotes.json",
        as_json(
            [
                {"text": "  Well begun is half done. ", "author": " Aristotle "},
                {"text": "Begin anywhere.", "author": None},
                {"text": "Stay curious."},
                {"text": "Be kind.", "author": "   "},
                {"text": "Ça ira — 行ってきます 🚀", "author": "Ünïcödé"},
            ]
        ),
    )
    out, _ = load(path)
    assert out == "Created 5 quotes, skipped 0 (already stored or repeated).\n"
    assert stored() == {
        ("Well begun is half done.", "Aristotle"),
        ("Begin anywhere.", None),
        ("Stay curious.", None),
        ("Be kind.", None),
        ("Ça ira — 行ってきます 🚀", "Ünïcödé"),
    }


def test_it_loads_a_csv_file_with_quoted_commas_newlines_and_empty_authors(write):
    path = write(
        "quotes.csv",
        'text,author\n"Hello, world.",Ada\n"Two\nlines",\r\n  Spaces around  ,  Bo  \n\n"Say ""hi"".",\n',
    )
    out, _ = load(path)
    assert out == "Created 4 quotes, skipped 0 (already stored or repeated).\n"
    assert stored() == {
        ("Hello, world.", "Ada"),
        ("Two\nlines", None),
        ("Spaces around", "Bo"),
        ('Say "hi".', None),
    }


def test_a_csv_header_may_name_the_columns_in_any_order_and_case(write):
    load(write("quotes.csv", " Author , TEXT \nAda,First.\n"))
    assert stored() == {("First.", "Ada")}


def test_a_utf8_byte_order_mark_is_tolerated(write):
    load(write("excel.csv", "\ufefftext,author\nFirst.,Ada\n".encode()))
    load(write("bom.json", "\ufeff" + as_json([{"text": "Second.", "author": None}])))
    assert stored() == {("First.", "Ada"), ("Second.", None)}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("quotes.txt", as_json([{"text": "First.", "author": "Ada"}])),
        ("quotes", "\n  " + as_json([{"text": "First.", "author": "Ada"}])),
        ("quotes.txt", "text,author\nFirst.,Ada\n"),
        ("quotes", "text,author\nFirst.,Ada\n"),
        ("QUOTES.JSON", as_json([{"text": "First.", "author": "Ada"}])),
    ],
)
def test_without_a_telling_extension_the_content_picks_the_format(write, name, content):
    load(write(name, content))
    assert stored() == {("First.", "Ada")}


def test_the_extension_wins_over_the_content(write):
    message, _ = load_error(write("quotes.json", "text,author\nFirst.,Ada\n"))
    assert "not valid JSON" in message
    assert not Quote.objects.exists()


# --- Idempotence and dry run ----------------------------------------------------------------


def test_loading_the_same_file_again_creates_nothing(write):
    path = write("quotes.json", as_json([{"text": f"Quote {n}.", "author": "Ada"} for n in range(3)]))
    load(path)
    out, _ = load(path)
    assert out == "Created 0 quotes, skipped 3 (already stored or repeated).\n"
    assert Quote.objects.count() == 3


def test_quotes_already_stored_are_skipped_whatever_the_surrounding_whitespace(write):
    QuoteFactory(text="Stay curious.", author="Anon")
    QuoteFactory(text="Begin anywhere.", author=None)
    path = write(
        "quotes.json",
        as_json(
            [
                {"text": "\tStay curious.  ", "author": " Anon"},
                {"text": "Begin anywhere. ", "author": ""},
                {"text": "Stay curious.", "author": "anon"},  # another author: another quote
            ]
        ),
    )
    out, _ = load(path)
    assert out == "Created 1 quotes, skipped 2 (already stored or repeated).\n"
    assert Quote.objects.count() == 3


def test_a_quote_repeated_in_the_file_is_stored_once_and_counted_as_skipped(write):
    path = write("quotes.csv", "text,author\nFirst.,Ada\n First. , Ada \nFirst.,\nFirst.,\n")
    out, _ = load(path)
    assert out == "Created 2 quotes, skipped 2 (already stored or repeated).\n"
    assert stored() == {("First.", "Ada"), ("First.", None)}


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(write):
    QuoteFactory(text="Stay curious.", author="Anon")
    path = write(
        "quotes.json",
        as_json([{"text": "Stay curious.", "author": "Anon"}, {"text": "New.", "author": None}]),
    )
    out, _ = load(path, "--dry-run")
    assert out == (
        "Dry run: would create 1 quotes, skip 1 (already stored or repeated). Nothing was written.\n"
    )
    assert stored() == {("Stay curious.", "Anon")}


def test_a_dry_run_still_reports_bad_rows(write):
    message, printed = load_error(write("quotes.json", as_json([{"text": ""}])), "--dry-run")
    assert printed == "row 1: text is blank\n"
    assert "1 bad row;" in message


# --- Bad rows -------------------------------------------------------------------------------


def test_bad_json_rows_load_nothing_and_each_is_reported_with_its_number(write):
    rows = [
        {"text": "Fine.", "author": "Ada"},
        {"text": "   ", "author": "Ada"},
        {"text": 42, "author": "Ada"},
        {"text": "Fine too.", "author": ["Ada"]},
        "just a string",
        {"author": "Ada"},
        {"text": "Typo.", "auther": "Ada"},
        {"text": "x" * 501},
        {"text": "Fine.", "author": "y" * 151},
        {"text": "Nul\x00byte."},
        {"text": None},
        {"text": "Fine again."},
    ]
    message, printed = load_error(write("quotes.json", as_json(rows)))
    assert printed.splitlines() == [
        "row 2: text is blank",
        "row 3: text must be a string, got a number",
        "row 4: author must be a string or null, got a list",
        'row 5: expected an object {"text", "author"}, got a string',
        "row 6: text is missing",
        "row 7: unknown field 'auther' (expected text, author)",
        "row 8: text is 501 characters long (at most 500)",
        "row 9: author is 151 characters long (at most 150)",
        "row 10: text contains a NUL character",
        "row 11: text must be a string, got null",
    ]
    assert message.endswith("quotes.json: 10 bad rows; nothing was loaded.")
    assert not Quote.objects.exists()


def test_bad_csv_rows_load_nothing_and_are_reported_with_row_and_line_numbers(write):
    content = (
        "text,author\n"
        "Fine.,Ada\n"
        "Unquoted, with a comma,Ada\n"
        '"Spans\ntwo lines",Bo\n'
        "   ,Ada\n"
        "\n"
        "Lonely field\n"
        f"{'x' * 501},\n"
    )
    message, printed = load_error(write("quotes.csv", content))
    assert printed.splitlines() == [
        "row 2 (line 3): expected 2 fields (text,author), got 3; quote a text that contains commas",
        "row 4 (line 6): text is blank",
        "row 5 (line 8): expected 2 fields (text,author), got 1",
        "row 6 (line 9): text is 501 characters long (at most 500)",
    ]
    assert "4 bad rows; nothing was loaded." in message
    assert not Quote.objects.exists()


def test_the_longest_allowed_quote_fits_the_databases_unique_index(write):
    # Four UTF-8 bytes a character, random so PostgreSQL cannot compress it: 2600 bytes, under
    # the btree row limit that the length caps exist for.
    chars = random.Random(5).choices([chr(code) for code in range(0x1F300, 0x1F5FF)], k=650)
    text, author = "".join(chars[:500]), "".join(chars[500:])
    load(write("long.json", as_json([{"text": text, "author": author}])))
    assert stored() == {(text, author)}


@pytest.mark.django_db(transaction=True)  # real commits: a half-done load would stay
def test_a_load_that_fails_in_a_later_batch_leaves_nothing_behind():
    # The command checks rows first; this is the database refusing one anyway, mid-load.
    quotes = [("First.", None), ("Second.", None), ("", None)]
    with pytest.raises(IntegrityError):
        quotes_load(quotes=quotes, batch_size=2)
    assert not Quote.objects.exists()


# --- Whole-file errors: one line, non-zero exit ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("quotes.json", "[{", "not valid JSON: Expecting property name enclosed in double quotes"),
        ("quotes.json", '{"text": "Hi."}', 'a JSON quote file is a list of {"text", "author"} objects'),
        ("quotes.json", "", "not valid JSON: Expecting value (line 1, column 1)"),
        ("quotes.csv", "", "the CSV file is empty"),
        ("quotes.csv", "quote,who\nHi.,Me\n", "the CSV header must be text,author (got 'quote,who')"),
        ("quotes.csv", "text\nHi.\n", "the CSV header must be text,author (got 'text')"),
        ("quotes.csv", "text,author,year\nHi.,Me,1999\n", "the CSV header must be text,author"),
        ("quotes.csv", "text,author\nCaf\xe9,Me\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_as_quotes_is_one_clear_error(write, name, content, expected):
    message, printed = load_error(write(name, content))
    assert expected in message
    assert "\n" not in message
    assert printed == ""
    assert not Quote.objects.exists()


def test_a_missing_file_is_one_clear_error(tmp_path):
    message, _ = load_error(tmp_path / "missing.json")
    assert message == f"cannot read {tmp_path / 'missing.json'}: No such file or directory"


def test_a_directory_is_one_clear_error(tmp_path):
    message, _ = load_error(tmp_path)
    assert message == f"cannot read {tmp_path}: Is a directory"


def test_from_the_shell_a_missing_file_is_one_line_and_a_non_zero_exit_without_traceback(tmp_path):
    missing = tmp_path / "missing.json"
    result = subprocess.run(
        [sys.executable, "manage.py", "load_quotes", str(missing)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr == f"CommandError: cannot read {missing}: No such file or directory\n"


# --- Progress and size ----------------------------------------------------------------------


def test_progress_is_shown_on_a_terminal(write):
    path = write("quotes.json", as_json([{"text": f"Quote {n}.", "author": None} for n in range(2500)]))
    _, progress = load(path, stderr=Terminal())
    assert "\rLoading quotes:  40% (1000/2500)" in progress
    assert progress.endswith("\rLoading quotes: 100% (2500/2500)\n")


def test_no_progress_is_written_when_the_output_is_not_a_terminal(write):
    path = write("quotes.json", as_json([{"text": f"Quote {n}.", "author": None} for n in range(2500)]))
    _, progress = load(path)
    assert progress == ""


def test_a_hundred_thousand_row_file_loads_with_bulk_inserts(write, django_assert_max_num_queries):
    QuoteFactory(text="Quote 7 of the big file.", author="Author 7")
    rows = [
        {"text": f"Quote {n} of the big file.", "author": f"Author {n % 1000}" if n % 10 else None}
        for n in range(100_000)
    ]
    path = write("big.json", as_json(rows))
    with django_assert_max_num_queries(300):
        out, _ = load(path)
    assert out == "Created 99999 quotes, skipped 1 (already stored or repeated).\n"
    assert Quote.objects.count() == 100_000
    assert Quote.objects.filter(text="Quote 99999 of the big file.", author="Author 999").exists()
    assert Quote.objects.filter(text="Quote 10 of the big file.", author=None).exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('[{"text": ' + "1" * 5000 + ', "author": "x"}]', "not valid JSON"),
        ('[{"text": "lone \\ud800 surrogate", "author": "x"}]', "row 1: text contains an unpaired surrogate"),
        ('[{"text": "fine", "author": "bad \\udfff"}]', "row 1: author contains an unpaired surrogate"),
    ],
)
def test_hostile_json_is_reported_not_crashed_on(tmp_path, content, reason):
    path = tmp_path / "hostile.json"
    path.write_text(content, encoding="utf-8")
    message, printed = load_error(path)
    assert reason in message + printed
    assert not Quote.objects.exists()
