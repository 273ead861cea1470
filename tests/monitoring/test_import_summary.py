"""The CSV import summary agrees in number with what it counts, in English and in Spanish
(regression: "1 rows stored (1 new mentions)")."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

pytestmark = pytest.mark.django_db
HEADER = "id,url,text,published_at,author\n"


def row(number: int) -> str:
    url = f"https://foro.example/{number}"
    return f"sum-{number},{url},La factura llegó duplicada,2026-01-05 10:00,marta\n"


def import_summary(client, user, rows: int, *, language: str = "en") -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    text = HEADER + "".join(row(number) for number in range(rows))
    response = client.post(
        reverse("monitoring:import_csv"),
        {"file": SimpleUploadedFile("rows.csv", text.encode())},
    )
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_one_imported_row_is_summarised_in_the_singular(client, administrator):
    page = import_summary(client, administrator, 1)

    assert "1 row stored. 1 new mention." in page


def test_two_imported_rows_are_summarised_in_the_plural(client, administrator):
    page = import_summary(client, administrator, 2)

    assert "2 rows stored. 2 new mentions." in page


def test_one_imported_row_is_summarised_in_the_spanish_singular(client, administrator):
    page = import_summary(client, administrator, 1, language="es")

    assert "1 fila guardada. 1 mención nueva." in page


def test_two_imported_rows_are_summarised_in_the_spanish_plural(client, administrator):
    page = import_summary(client, administrator, 2, language="es")

    assert "2 filas guardadas. 2 menciones nuevas." in page
