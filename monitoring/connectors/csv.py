"""CSV imports of mentions exported from other tools, validated row by row with line numbers.

Columns (header row first; names are case-insensitive; ``,`` or ``;`` delimited; UTF-8,
with or without BOM; quoted values may span lines):

- required: ``id``, ``url`` (http/https), ``text`` (HTML is stripped), ``published_at``
  (ISO-8601, or ``YYYY-MM-DD HH:MM[:SS]`` taken as UTC), ``author`` (the handle)
- optional: ``author_name``, ``author_followers`` (integer), ``language`` (ISO 639-1),
  ``platform`` (where it was posted; a platform Calma knows keeps its name, else "csv"),
  ``reply_to_id``, ``likes``, ``shares``, ``replies`` (integers)

Unknown columns are ignored but kept in each mention's ``raw``.

Every row crosses the validation boundary (``boundary.admit``); what it refuses, a value
longer than ``MAX_FIELD_CHARS``, an integer beyond 64 bits or a date outside the window
becomes a row error naming its line and column, and the good rows are still stored. Row
messages are translated (in the language active when the file is read).
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from monitoring.connectors import base, boundary
from monitoring.platforms import Platform, platform_epoch
from monitoring.text import html_to_text

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Python's own csv default: a longer cell is a row error (the reader itself is given room
# up to the whole upload, so the error can name the line and the column).
MAX_FIELD_CHARS = 131_072
MAX_COUNT_DIGITS = 19  # 2**63 - 1 has 19 digits; int() of thousands of digits is slow
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
READ_ERROR_KEY = "_read_error"  # a record the csv reader could not read at all

_DELIMITERS = ",;\t"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line in the file where the row starts; the header is line 1
    field: str  # the column at fault, or "" for the row as a whole
    message: str | Promise  # translated

    def __str__(self) -> str:
        if self.field:
            return str(
                _("line %(line)s, %(field)s: %(message)s")
                % {"line": self.line, "field": self.field, "message": self.message}
            )
        return str(_("line %(line)s: %(message)s") % {"line": self.line, "message": self.message})


def decode_upload(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (BOM or not), else Windows-1252 as Excel saves it."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise base.MalformedPayload(f"file is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_rows(
    text: str, *, now: datetime | None = None
) -> tuple[list[base.MentionIn], list[RowError]]:
    """Every valid row as a mention, and every problem found, each with its line and column.

    ``now`` is the server clock the dates are checked against (the moment of the call when
    left out).
    """
    now = now or timezone.now()
    try:
        rows = split(text)
    except base.MalformedPayload as error:
        return [], [_header_error(error)]
    mentions: list[base.MentionIn] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for row in rows:
        mention, row_errors = _check_row(row, now=now)
        external_id = _cell(row, "id")
        if external_id and not row.get(READ_ERROR_KEY):
            if external_id in first_line_of:
                row_errors.append(
                    RowError(
                        row[LINE_KEY],
                        "id",
                        _("duplicate id %(id)s (first on line %(line)s)")
                        % {"id": _quoted(external_id), "line": first_line_of[external_id]},
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
        raise base.MalformedPayload(_("the file is empty"))
    _allow_long_fields()
    delimiter, header = _read_header(text)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise MissingColumns(missing)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)  # the header
    rows: list[dict[str, Any]] = []
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # the rest of that line is skipped by the reader
            start, line = line, reader.line_num + 1
            rows.append({LINE_KEY: start, READ_ERROR_KEY: str(error)})
            continue
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


def parse_item(row: dict[str, Any], *, now: datetime | None = None) -> base.MentionIn:
    """One row from split() to a mention; MalformedItem lists every problem in the row."""
    if not isinstance(row, dict):
        raise base.MalformedItem(f"row is not a mapping: {type(row).__name__}")
    mention, errors = _check_row(row, now=now or timezone.now())
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


class MissingColumns(base.MalformedPayload):
    def __init__(self, columns: list[str]):
        self.columns = columns
        super().__init__(
            _("missing required column(s): %(columns)s") % {"columns": ", ".join(columns)}
        )


def _header_error(error: base.MalformedPayload) -> RowError:
    field = ", ".join(error.columns) if isinstance(error, MissingColumns) else ""
    return RowError(1, field, error.args[0] if error.args else str(error))


def _allow_long_fields() -> None:
    # Process-wide, and only ever raised: an upload is bounded by MAX_UPLOAD_BYTES anyway.
    if csv.field_size_limit() < MAX_UPLOAD_BYTES:
        csv.field_size_limit(MAX_UPLOAD_BYTES)


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


def _check_row(
    row: dict[str, Any], *, now: datetime
) -> tuple[base.MentionIn | None, list[RowError]]:
    line = row.get(LINE_KEY) if isinstance(row.get(LINE_KEY), int) else 0
    if row.get(READ_ERROR_KEY):
        return None, [
            RowError(line, "", _("unreadable row: %(error)s") % {"error": row[READ_ERROR_KEY]})
        ]
    errors = _cell_errors(row, line)
    if errors:
        return None, errors

    def value(column: str) -> str:
        return _cell(row, column)

    if row.get(EXTRA_KEY):
        errors.append(
            RowError(
                line,
                "",
                _("%(count)s value(s) beyond the last column") % {"count": len(row[EXTRA_KEY])},
            )
        )
    for column in REQUIRED_COLUMNS:
        if not value(column):
            errors.append(RowError(line, column, _("required value is empty")))

    url = value("url")
    if url and not boundary.is_http_url(url):
        errors.append(
            RowError(line, "url", _("not an http(s) URL: %(value)s") % {"value": _quoted(url)})
        )

    published_at = _row_date(
        value("published_at"), line, errors, platform=_platform(value("platform")), now=now
    )

    numbers: dict[str, int] = {}
    for column in ("author_followers", *ENGAGEMENT_COLUMNS):
        if value(column):
            number = _whole_number(value(column))
            if number is None:
                errors.append(
                    RowError(
                        line,
                        column,
                        _("not a whole number from 0 to %(max)s: %(value)s")
                        % {"max": boundary.FOLLOWERS_RANGE[1], "value": _quoted(value(column))},
                    )
                )
            else:
                numbers[column] = number

    text = html_to_text(value("text")) if value("text") else ""
    if value("text") and not text:
        errors.append(RowError(line, "text", _("nothing left once HTML is removed")))

    if errors or published_at is None:
        return None, errors

    raw = {key: item for key, item in row.items() if key != EXTRA_KEY}
    mention = base.MentionIn(
        platform=_platform(value("platform")),
        external_id=value("id"),
        url=url,
        text=text,
        published_at=published_at,
        author=base.AuthorIn(
            handle=value("author"),
            display_name=value("author_name"),
            followers=numbers.get("author_followers"),
        ),
        language=value("language")[:2].lower(),
        reply_to_id=value("reply_to_id"),
        engagement={
            key: numbers[column] for column, key in ENGAGEMENT_COLUMNS.items() if column in numbers
        },
        raw=raw,
    )
    try:
        return boundary.admit(mention, now=now), []
    except boundary.Refused as error:  # what the checks above cannot see; kept as said
        return None, [RowError(line, "", str(error))]


def _cell(row: dict[str, Any], column: str) -> str:
    found = row.get(column)
    return boundary.clean_text(found).strip() if isinstance(found, str) else ""


def _cell_errors(row: dict[str, Any], line: int) -> list[RowError]:
    """Cells too long to be read as a value, one error per column."""
    return [
        RowError(
            line,
            column,
            _("longer than %(limit)s characters (%(length)s)")
            % {"limit": MAX_FIELD_CHARS, "length": len(found)},
        )
        for column, found in row.items()
        if isinstance(found, str) and len(found) > MAX_FIELD_CHARS
    ]


def _row_date(
    text: str, line: int, errors: list[RowError], *, platform: str, now: datetime
) -> datetime | None:
    if not text:
        return None
    try:
        parsed = base.parse_datetime(text)
    except base.MalformedItem:
        errors.append(
            RowError(
                line,
                "published_at",
                _("not a date: %(value)s (use ISO-8601 or YYYY-MM-DD HH:MM[:SS])")
                % {"value": _quoted(text)},
            )
        )
        return None
    try:
        return boundary.admitted_date(parsed, platform=platform, now=now)
    except boundary.Refused:
        errors.append(
            RowError(
                line,
                "published_at",
                _("%(value)s is outside the dates Calma accepts (from %(earliest)s to now)")
                % {"value": _quoted(text), "earliest": platform_epoch(platform).date().isoformat()},
            )
        )
        return None


def _whole_number(text: str) -> int | None:
    # ASCII digits only: "²".isdigit() is true but int() refuses it.
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > MAX_COUNT_DIGITS:
        return None
    number = int(text)
    return number if number <= boundary.FOLLOWERS_RANGE[1] else None


def _platform(text: str) -> str:
    name = text.lower()
    return name if name in Platform.values else Platform.CSV.value


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:79] + "…")
