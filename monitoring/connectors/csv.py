"""CSV imports of mentions exported from other tools, validated row by row with line numbers.

Columns (header row first; names are case-insensitive; ``,`` or ``;`` delimited; UTF-8,
with or without BOM; quoted values may span lines):

- required: ``id``, ``url`` (http/https), ``text`` (HTML is stripped), ``published_at``
  (ISO-8601, or ``YYYY-MM-DD HH:MM[:SS]`` taken as UTC), ``author`` (the handle)
- optional: ``author_name``, ``author_followers`` (integer), ``language`` (ISO 639-1),
  ``platform`` (where it was posted; a platform Calma knows keeps its name, else "csv"),
  ``reply_to_id``, ``likes``, ``shares``, ``replies`` (integers)

Unknown columns are ignored but kept in each mention's ``raw``.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitoring.connectors import base
from monitoring.platforms import Platform
from monitoring.text import html_to_text

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
REQUIRED_COLUMNS = ("id", "url", "text", "published_at", "author")
OPTIONAL_COLUMNS = (
    "author_name",
    "author_followers",
    "language",
    "platform",
    "reply_to_id",
    "likes",
    "shares",
    "replies",
)
# CSV column → engagement key, in the vocabulary the other connectors use.
ENGAGEMENT_COLUMNS = {"likes": "likes", "shares": "reposts", "replies": "replies"}

LINE_KEY = "_line"  # split() records each row's first file line under this key
EXTRA_KEY = "_extra"  # values beyond the header's columns, which make the row invalid

_DELIMITERS = ",;\t"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file where the row starts; the header is line 1
    field: str  # the column at fault, or "" for the row as a whole
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


def decode_upload(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (BOM or not), else Windows-1252 as Excel saves it."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise base.MalformedPayload(f"file is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_rows(text: str) -> tuple[list[base.MentionIn], list[RowError]]:
    """Every valid row as a mention, and every problem found, each with its line and column."""
    try:
        rows = split(text)
    except base.MalformedPayload as error:
        return [], [_header_error(error)]
    mentions: list[base.MentionIn] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for row in rows:
        mention, row_errors = _check_row(row)
        external_id = (row.get("id") or "").strip()
        if external_id:
            if external_id in first_line_of:
                row_errors.append(
                    RowError(
                        row[LINE_KEY],
                        "id",
                        f"duplicate id {external_id!r}"
                        f" (first on line {first_line_of[external_id]})",
                    )
                )
            else:
                first_line_of[external_id] = row[LINE_KEY]
        if row_errors:
            errors.extend(row_errors)
        elif mention is not None:
            mentions.append(mention)
    return mentions, errors


def split(text: str | bytes) -> list[dict[str, Any]]:
    """The data rows as dicts keyed by (lower-case) column, each with its line under ``_line``.

    Raises MalformedPayload when the header lacks a required column.
    """
    if isinstance(text, bytes):
        text = decode_upload(text)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise base.MalformedPayload("the file is empty")
    delimiter, header = _read_header(text)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise base.MalformedPayload(f"missing required column(s): {', '.join(missing)}")

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)  # the header
    rows: list[dict[str, Any]] = []
    line = reader.line_num + 1
    for record in reader:
        start, line = line, reader.line_num + 1
        if not any(value.strip() for value in record):
            continue  # blank lines (often a trailing one) are not rows
        row: dict[str, Any] = {
            column: record[index] if index < len(record) else ""
            for index, column in enumerate(header)
            if column
        }
        if len(record) > len(header):
            row[EXTRA_KEY] = record[len(header) :]
        row[LINE_KEY] = start
        rows.append(row)
    return rows


def parse_item(row: dict[str, Any]) -> base.MentionIn:
    """One row from split() to a mention; MalformedItem lists every problem in the row."""
    if not isinstance(row, dict):
        raise base.MalformedItem(f"row is not a mapping: {type(row).__name__}")
    mention, errors = _check_row(row)
    if errors or mention is None:
        raise base.MalformedItem("; ".join(str(error) for error in errors))
    return mention


def parse(payload: str | bytes) -> list[base.MentionIn]:
    """All rows of a CSV file; MalformedItem naming the first bad line if any row is bad."""
    if isinstance(payload, bytes):
        payload = decode_upload(payload)
    mentions, errors = parse_rows(payload)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise base.MalformedItem(f"{errors[0]}{more}")
    return mentions


def _header_error(error: base.MalformedPayload) -> RowError:
    message = str(error)
    field = ""
    if message.startswith("missing required column"):
        field = message.split(": ", 1)[1]
    return RowError(1, field, message)


def _read_header(text: str) -> tuple[str, list[str]]:
    """The delimiter and the normalised column names, trying the sniffed delimiter first."""
    sample = text[:8192]
    candidates = []
    with contextlib.suppress(csv.Error):  # no clear guess: try each delimiter in turn
        candidates.append(csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter)
    candidates.extend(delimiter for delimiter in _DELIMITERS if delimiter not in candidates)
    best: tuple[int, str, list[str]] = (-1, ",", [])
    for delimiter in candidates:
        record = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        header = [_column_name(name) for name in record]
        known = sum(1 for name in header if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        if all(column in header for column in REQUIRED_COLUMNS):
            return delimiter, header
        if known > best[0]:
            best = (known, delimiter, header)
    return best[1], best[2]


def _column_name(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower().replace(" ", "_")


def _check_row(row: dict[str, Any]) -> tuple[base.MentionIn | None, list[RowError]]:
    line = row.get(LINE_KEY) if isinstance(row.get(LINE_KEY), int) else 0
    errors: list[RowError] = []

    def value(column: str) -> str:
        found = row.get(column)
        return found.strip() if isinstance(found, str) else ""

    if row.get(EXTRA_KEY):
        errors.append(RowError(line, "", f"{len(row[EXTRA_KEY])} value(s) beyond the last column"))
    for column in REQUIRED_COLUMNS:
        if not value(column):
            errors.append(RowError(line, column, "required value is empty"))

    url = value("url")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(RowError(line, "url", f"not an http(s) URL: {url!r}"))

    published_at = None
    if value("published_at"):
        try:
            published_at = base.parse_datetime(value("published_at"))
        except base.MalformedItem:
            errors.append(
                RowError(
                    line,
                    "published_at",
                    f"not a date: {value('published_at')!r} "
                    "(use ISO-8601 or YYYY-MM-DD HH:MM[:SS])",
                )
            )

    numbers: dict[str, int] = {}
    for column in ("author_followers", *ENGAGEMENT_COLUMNS):
        if value(column):
            if value(column).isdigit():
                numbers[column] = int(value(column))
            else:
                errors.append(RowError(line, column, f"not a whole number: {value(column)!r}"))

    text = html_to_text(value("text")) if value("text") else ""
    if value("text") and not text:
        errors.append(RowError(line, "text", "nothing left once HTML is removed"))

    if errors or published_at is None:
        return None, errors

    language = value("language")[:2].lower()
    platform = value("platform").lower()
    raw = {key: item for key, item in row.items() if key != EXTRA_KEY}
    return (
        base.MentionIn(
            platform=platform if platform in Platform.values else Platform.CSV.value,
            external_id=value("id"),
            url=url,
            text=text,
            published_at=published_at,
            author=base.AuthorIn(
                handle=value("author"),
                display_name=value("author_name"),
                followers=numbers.get("author_followers"),
            ),
            language=language if len(language) == 2 and language.isalpha() else "",
            reply_to_id=value("reply_to_id"),
            engagement={
                key: numbers[column]
                for column, key in ENGAGEMENT_COLUMNS.items()
                if column in numbers
            },
            raw=raw,
        ),
        [],
    )
