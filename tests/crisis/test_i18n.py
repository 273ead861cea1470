"""The interface speaks Spanish and English, switchable by the user."""

from django.urls import reverse


def test_login_page_follows_the_browser_language(client, db):
    spanish = client.get(reverse("login"), headers={"accept-language": "es"})
    english = client.get(reverse("login"), headers={"accept-language": "en"})
    assert "Inicia sesión en Calma" in spanish.content.decode()
    assert "Sign in to Calma" in english.content.decode()


def test_language_switcher_changes_the_interface_language(client, manager):
    client.force_login(manager)
    inbox = reverse("inbox")
    assert "Nothing to triage right now" in client.get(inbox).content.decode()

    response = client.post(reverse("set_language"), {"language": "es", "next": inbox})
    assert response.status_code == 302
    page = client.get(inbox).content.decode()
    assert "Nada que clasificar ahora mismo" in page
    assert '<html lang="es">' in page

    client.post(reverse("set_language"), {"language": "en", "next": inbox})
    assert "Nothing to triage right now" in client.get(inbox).content.decode()


def test_every_spanish_catalogue_entry_is_translated():
    import polib
    from django.conf import settings

    catalogue = polib.pofile(str(settings.BASE_DIR / "locale/es/LC_MESSAGES/django.po"))
    assert catalogue.untranslated_entries() == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
