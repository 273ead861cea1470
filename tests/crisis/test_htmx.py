"""htmx requests get the partial; the same URL gives the full page otherwise."""

from django.urls import reverse


def test_htmx_request_renders_only_the_partial(client, manager):
    client.force_login(manager)
    response = client.get(reverse("inbox"), headers={"hx-request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"empty-state" in response.content


def test_full_page_carries_the_csrf_header_for_htmx(client, manager):
    client.force_login(manager)
    page = client.get(reverse("inbox")).content.decode()
    assert "<html" in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert "htmx-2.0.11.min.js" in page
