"""The CSV cells: numbers stay numbers, formula text is neutralised, rows stream."""

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crisis.board.csv_export import (
    BOM,
    FORMULA_PREFIXES,
    neutralise,
    safe_filename,
    stream_csv,
)

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2", "@SUM(1)", "\t=1", "\r=1"]


def test_hostile_texts_get_a_leading_apostrophe():
    for text in HOSTILE:
        assert neutralise(text) == "'" + text


def test_real_numbers_stay_numbers():
    assert neutralise(-2) == -2
    assert neutralise(3.5) == 3.5
    assert neutralise(Decimal("-1.25")) == Decimal("-1.25")


def test_booleans_none_and_plain_text():
    assert neutralise(True) == "true"
    assert neutralise(None) == ""
    assert neutralise("hola") == "hola"


def test_moments_are_iso_in_utc():
    madrid = timezone(timedelta(hours=1))
    assert neutralise(datetime(2026, 3, 2, 11, 0, tzinfo=madrid)) == "2026-03-02T10:00:00+00:00"


def test_nul_is_stripped_before_the_check():
    assert neutralise("\x00=1") == "'=1"
    assert neutralise("a\x00b") == "ab"


@given(st.text())
def test_no_text_cell_starts_with_a_formula_character(text):
    cell = neutralise(text)
    assert isinstance(cell, str)
    assert "\x00" not in cell
    assert cell.startswith("'") or not cell.startswith(FORMULA_PREFIXES)


def test_safe_filename():
    assert safe_filename('a"b\r\n/../x') == "a_b_.._x.csv"
    assert safe_filename("mentions-20260302.csv") == "mentions-20260302.csv"


def test_stream_csv_writes_bom_header_and_neutralised_rows():
    rows = iter([(1, "=cmd", datetime(2026, 1, 1, tzinfo=UTC)), (2, "ok", None)])
    response = stream_csv("x.csv", ["id", "text", "when"], rows)
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(body.removeprefix(BOM))))
    assert parsed == [
        ["id", "text", "when"],
        ["1", "'=cmd", "2026-01-01T00:00:00+00:00"],
        ["2", "ok", ""],
    ]
