"""CSV connector: row-by-row validation with line numbers, delimiters, BOM and multi-line text."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitoring.connectors import base
from monitoring.connectors import csv as csv_connector
from monitoring.connectors.csv import RowError
from monitoring.platforms import Platform

FIXTURES = Path(__file__).parent / "fixtures" / "csv"


def read(name: str) -> str:
    return csv_connector.decode_upload((FIXTURES / name).read_bytes())


def test_semicolon_export_with_bom_parses_every_row():
    mentions, errors = csv_connector.parse_rows(read("brand_export_semicolon_bom.csv"))

    assert errors == []
    assert [m.external_id for m in mentions] == ["fb-100234", "ig-C6xA", "tw-1790099", "tw-1790101"]


def test_bom_is_not_part_of_the_first_column_name():
    raw_text = (FIXTURES / "brand_export_semicolon_bom.csv").read_bytes().decode("utf-8")
    assert raw_text.startswith("\ufeff")

    mentions, errors = csv_connector.parse_rows(raw_text)

    assert errors == []
    assert mentions[0].external_id == "fb-100234"


def test_row_fields_are_mapped():
    first, quoted, *_rest, reply = csv_connector.parse(read("brand_export_semicolon_bom.csv"))

    assert first.platform == Platform.CSV  # facebook is not a platform Calma polls
    assert first.url == "https://www.facebook.com/ElectraSur/posts/100234"
    assert first.text == "Otra vez sin luz en Triana. ¿Hasta cuándo?"
    assert first.published_at == datetime(2025, 5, 14, 9, 12, tzinfo=UTC)
    assert first.author.handle == "maria.lopez.81"
    assert first.author.display_name == "María López"
    assert first.author.followers == 430
    assert first.language == "es"
    assert first.engagement == {"likes": 12, "reposts": 3, "replies": 5}
    assert first.raw["sentiment"] == "negativo"
    assert (
        quoted.text
        == "Gracias al equipo de ElectraSur por la rapidez 👏\nVolvió la luz en 2 horas."
    )
    assert quoted.author.followers is None
    assert reply.reply_to_id == "tw-1790099"


def test_iso_dates_with_offsets_become_aware():
    mentions = csv_connector.parse(read("brand_export_semicolon_bom.csv"))

    assert mentions[2].published_at == datetime(
        2025, 5, 14, 12, 0, tzinfo=timezone(timedelta(hours=2))
    )
    assert mentions[2].text == 'Comunicado: "compensaremos a los afectados" 🤔'


def test_comma_export_with_known_and_unknown_platforms():
    mentions = csv_connector.parse(read("brand_export_comma.csv"))

    assert [m.platform for m in mentions] == [
        Platform.REDDIT,
        Platform.MASTODON,
        Platform.YOUTUBE,
        Platform.CSV,
    ]
    assert mentions[0].text == "Power's been out since Tuesday & nobody answers the phone."
    assert mentions[1].language == "en"
    assert mentions[2].published_at == datetime(2025, 5, 15, 16, 20, tzinfo=UTC)
    assert mentions[3].engagement == {"likes": 0, "reposts": 0, "replies": 0}


def test_malformed_rows_are_reported_with_line_and_column():
    mentions, errors = csv_connector.parse_rows(read("malformed_rows.csv"))

    assert [m.external_id for m in mentions] == ["ok-1", "multi-1", "ok-2"]
    assert [(error.line, error.field) for error in errors] == [
        (3, "url"),
        (4, "published_at"),
        (5, "author_followers"),
        (5, "likes"),
        (6, "id"),
        (9, "id"),
        (10, "author"),
        (11, ""),
    ]


def test_duplicate_id_names_the_first_line():
    _mentions, errors = csv_connector.parse_rows(read("malformed_rows.csv"))

    duplicate = next(error for error in errors if error.line == 9)
    assert "ok-1" in duplicate.message
    assert "line 2" in duplicate.message


def test_multi_line_row_keeps_its_text_and_next_lines_stay_numbered():
    mentions, _errors = csv_connector.parse_rows(read("malformed_rows.csv"))

    assert mentions[1].text == "Una queja\nen dos líneas"


def test_header_missing_a_column_is_one_error_on_line_one():
    mentions, errors = csv_connector.parse_rows(read("missing_column.csv"))

    assert mentions == []
    assert len(errors) == 1
    assert errors[0].line == 1
    assert errors[0].field == "published_at"
    assert "published_at" in errors[0].message


def test_parse_names_the_first_bad_line():
    with pytest.raises(base.MalformedItem, match=r"^line 3, url: .*\(and 7 more\)$"):
        csv_connector.parse(read("malformed_rows.csv"))


def test_parse_item_rejects_one_bad_row_from_split():
    rows = csv_connector.split(read("malformed_rows.csv"))

    assert rows[0]["_line"] == 2
    assert csv_connector.parse_item(rows[0]).external_id == "ok-1"
    with pytest.raises(base.MalformedItem, match="line 4, published_at"):
        csv_connector.parse_item(rows[2])


def test_split_refuses_a_file_without_the_required_columns():
    with pytest.raises(base.MalformedPayload, match="published_at"):
        csv_connector.split(read("missing_column.csv"))


def test_column_names_are_case_and_space_insensitive():
    text = "ID;URL;Text;Published At;Author\n9;https://example.org/9;Hola;2025-05-14 10:00;ana\n"

    [mention] = csv_connector.parse(text)

    assert mention.external_id == "9"
    assert mention.published_at == datetime(2025, 5, 14, 10, 0, tzinfo=UTC)


def test_empty_file_is_an_error_on_line_one():
    assert csv_connector.parse_rows("") == ([], [RowError(1, "", "the file is empty")])


def test_decode_upload_accepts_windows_1252():
    data = "id,url,text,published_at,author\n1,https://example.org/1,Señal,2025-05-14,ana\n"

    [mention] = csv_connector.parse(csv_connector.decode_upload(data.encode("cp1252")))

    assert mention.text == "Señal"


def test_decode_upload_refuses_oversized_files():
    with pytest.raises(base.MalformedPayload):
        csv_connector.decode_upload(b"x" * (csv_connector.MAX_UPLOAD_BYTES + 1))


def test_row_error_is_a_frozen_value():
    error = RowError(3, "url", "not an http(s) URL")

    with pytest.raises(AttributeError):
        error.line = 4  # type: ignore[misc]
    assert str(error) == "line 3, url: not an http(s) URL"
