"""Reading quote files: JSON (a list of {"text", "author"}) or CSV (header text,author).

Nothing here touches the database. A file is read whole and every row checked, so the caller
can refuse the file with every bad row listed before anything is stored.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from quotes.models import AUTHOR_MAX_LENGTH, TEXT_MAX_LENGTH, normalize_author

FIELDS = ("text", "author")

Pair = tuple[str, str | None]


class QuoteFileError(Exception):
    """The file as a whole cannot be read: not UTF-8, not JSON, no CSV header..."""


@dataclass(frozen=True)
class RowError:
    row: int
    reason: str
    line: int | None = None  # CSV only: where the row starts in the file

    def __str__(self) -> str:
        where = f"row {self.row}" if self.line is None else f"row {self.row} (line {self.line})"
        return f"{where}: {self.reason}"


@dataclass
class QuoteFile:
    format: str  # "json" or "csv"
    quotes: list[Pair] = field(default_factory=list)  # stripped; a blank author is None
    errors: list[RowError] = field(default_factory=list)


def read_quote_file(raw: bytes, *, name: str) -> QuoteFile:
    """Parse and check every row. `name` picks the format by extension (.json, .csv); any
    other name goes by content: a file starting with `[` or `{` is JSON, anything else CSV."""
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as spreadsheet exports write, is fine
    except UnicodeDecodeError as exc:
        raise QuoteFileError(f"the file is not UTF-8 text (invalid byte at offset {exc.start})") from None
    if _format(text, name=name) == "json":
        return _read_json(text)
    return _read_csv(text)


def _format(text: str, *, name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if suffix in {".json", ".csv"}:
        return suffix[1:]
    return "json" if text.lstrip()[:1] in {"[", "{"} else "csv"


def _problems(text: str, author: str | None) -> list[str]:
    """What is wrong with one stripped (text, author) pair; empty when it can be stored."""
    problems = []
    if not text:
        problems.append("text is blank")
    elif len(text) > TEXT_MAX_LENGTH:
        problems.append(f"text is {len(text)} characters long (at most {TEXT_MAX_LENGTH})")
    problems += _character_problems("text", text)
    if author is not None:
        if len(author) > AUTHOR_MAX_LENGTH:
            problems.append(f"author is {len(author)} characters long (at most {AUTHOR_MAX_LENGTH})")
        problems += _character_problems("author", author)
    return problems


_SURROGATE = re.compile("[\ud800-\udfff]")


def _character_problems(field: str, value: str) -> list[str]:
    """Characters no database text can hold: NUL, and lone surrogates (JSON's \\ud800 escapes
    decode to them; they are not valid UTF-8)."""
    problems = []
    if "\x00" in value:
        problems.append(f"{field} contains a NUL character")
    if _SURROGATE.search(value):
        problems.append(f"{field} contains an unpaired surrogate (invalid Unicode)")
    return problems


def _add(result: QuoteFile, row: int, text: str, author: str | None, *, line: int | None = None) -> None:
    pair = (text.strip(), normalize_author(author))
    problems = _problems(*pair)
    if problems:
        result.errors.append(RowError(row, "; ".join(problems), line))
    else:
        result.quotes.append(pair)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _read_json(text: str) -> QuoteFile:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuoteFileError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # e.g. a number too long to convert
        raise QuoteFileError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise QuoteFileError("not valid JSON: nested too deeply") from None
    if not isinstance(document, list):
        raise QuoteFileError(
            f'a JSON quote file is a list of {{"text", "author"}} objects, not {_json_type(document)}'
        )
    result = QuoteFile(format="json")
    for row, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            reason = f'expected an object {{"text", "author"}}, got {_json_type(item)}'
            result.errors.append(RowError(row, reason))
            continue
        problems = []
        if unknown := sorted(set(item) - set(FIELDS)):
            problems.append(f"unknown field {', '.join(map(repr, unknown))} (expected text, author)")
        text, author = item.get("text"), item.get("author")
        if "text" not in item:
            problems.append("text is missing")
        elif not isinstance(text, str):
            problems.append(f"text must be a string, got {_json_type(text)}")
        if author is not None and not isinstance(author, str):
            problems.append(f"author must be a string or null, got {_json_type(author)}")
        if problems:
            result.errors.append(RowError(row, "; ".join(problems)))
            continue
        _add(result, row, text, author)
    return result


def _read_csv(text: str) -> QuoteFile:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise QuoteFileError(f"the CSV header cannot be read ({exc})") from None
    if header is None:
        raise QuoteFileError("the CSV file is empty; it needs the header line text,author")
    names = [name.strip().lower() for name in header]
    if sorted(names) != sorted(FIELDS):
        got = ",".join(header) if header else "an empty line"
        raise QuoteFileError(f"the CSV header must be text,author (got {got[:200]!r})")
    text_at, author_at = names.index("text"), names.index("author")

    result = QuoteFile(format="csv")
    row = 0
    line = reader.line_num + 1
    try:
        for fields in reader:
            if not fields:  # a blank line
                line = reader.line_num + 1
                continue
            row += 1
            if len(fields) != len(FIELDS):
                reason = f"expected 2 fields (text,author), got {len(fields)}"
                if len(fields) > len(FIELDS):
                    reason += "; quote a text that contains commas"
                result.errors.append(RowError(row, reason, line))
            else:
                _add(result, row, fields[text_at], fields[author_at], line=line)
            line = reader.line_num + 1
    except csv.Error as exc:
        # The reader cannot find where the next row starts; stop at this one.
        result.errors.append(RowError(row + 1, f"unreadable CSV ({exc}); nothing after it was checked", line))
    return result
