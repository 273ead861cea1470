"""Streamed CSV responses whose cells cannot run as spreadsheet formulas."""

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The byte-order mark that makes spreadsheet applications read the file as UTF-8.
BOM = "\ufeff"
# Rows a queryset reads from the database per round trip while streaming.
CHUNK_SIZE = 2000

Cell = str | int | float | Decimal


def neutralise(value: object) -> Cell:
    """One cell as it is safe to write: real numbers stay numbers, None is empty, moments
    are ISO-8601 in UTC, and text that a spreadsheet would run as a formula gets a leading
    apostrophe (NUL characters are dropped)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, int | float | Decimal):
        return value
    elif isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        text = moment.isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.replace("\x00", "")
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    """A file-like object that hands back what is written (Django's streaming CSV pattern)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The BOM, the header, then one encoded line per row, produced as they are read."""
    writer = csv.writer(_Echo())
    yield BOM
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def safe_filename(filename: str) -> str:
    """ASCII letters, digits, dot, dash and underscore only, ending in .csv."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "export"
    return cleaned if cleaned.endswith(".csv") else f"{cleaned}.csv"


def stream_csv(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A CSV download written row by row: the rows are never held in memory together."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
