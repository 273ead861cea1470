"""Each person's own profile (issue 9): language and time zone, which switch the interface and
the times shown at once; and the selectors other stages read them through."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.models import AuditEvent
from crisis.people.models import Profile, Team
from crisis.people.preferences import SESSION_TIME_ZONE_KEY
from crisis.people.selectors import preferences_for, profile_for

ROLE_FIXTURES = ["manager", "supervisor", "executive", "administrator"]


# --- Who may open it -----------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_the_profile(client, db):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_every_role_opens_its_own_profile(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(reverse("profile")).status_code == 200


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_every_role_saves_its_own_profile(client, request, role_fixture):
    person = request.getfixturevalue(role_fixture)
    client.force_login(person)
    response = client.post(reverse("profile"), {"language": "es", "time_zone": "UTC"})
    assert response.status_code == 302
    assert Profile.objects.get(user=person).time_zone == "UTC"


# --- What saving does ----------------------------------------------------------------------


def test_saving_the_profile_switches_the_interface_language(client, manager):
    client.force_login(manager)
    response = client.post(reverse("profile"), {"language": "es", "time_zone": ""}, follow=True)
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert '<html lang="es">' in response.content.decode()


def test_saving_the_profile_switches_the_time_zone_of_later_pages(client, manager):
    client.force_login(manager)
    client.post(reverse("profile"), {"language": "", "time_zone": "America/Mexico_City"})
    response = client.get(reverse("profile"))
    assert "America/Mexico_City" in response.content.decode()
    assert client.session[SESSION_TIME_ZONE_KEY] == "America/Mexico_City"


def test_saving_the_profile_is_audited(client, manager):
    client.force_login(manager)
    client.post(reverse("profile"), {"language": "es", "time_zone": "UTC"})
    event = AuditEvent.objects.get(verb="profile.preferences_changed")
    assert event.actor == manager
    assert event.after == {"language": "es", "time_zone": "UTC"}


def test_profile_refuses_an_unknown_time_zone(client, manager):
    client.force_login(manager)
    response = client.post(reverse("profile"), {"language": "", "time_zone": "Nowhere/Atlantis"})
    assert response.status_code == 200
    assert Profile.objects.filter(user=manager, time_zone="Nowhere/Atlantis").count() == 0


def test_profile_refuses_a_language_calma_does_not_speak(client, manager):
    client.force_login(manager)
    client.post(reverse("profile"), {"language": "xx", "time_zone": ""})
    assert profile_for(manager).language == ""


def test_a_post_cannot_change_someone_elses_profile(client, manager, supervisor):
    client.force_login(manager)
    client.post(reverse("profile"), {"language": "es", "time_zone": "UTC", "user": supervisor.pk})
    assert profile_for(supervisor).time_zone == ""


# --- The time zone on every request --------------------------------------------------------


def test_sign_in_puts_the_profile_time_zone_in_the_session(manager):
    Profile.objects.create(user=manager, time_zone="Asia/Tokyo")
    client = Client()
    client.force_login(manager)
    assert client.session[SESSION_TIME_ZONE_KEY] == "Asia/Tokyo"


def test_pages_cost_no_profile_query_for_the_time_zone_once_signed_in(client, supervisor):
    Profile.objects.create(user=supervisor, time_zone="Asia/Tokyo")
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("audit_log"))  # a page that reads no profile itself
    assert response.status_code == 200
    assert not [query for query in captured if "people_profile" in query["sql"]]


def test_an_older_session_learns_the_time_zone_on_its_next_request(client, manager):
    Profile.objects.create(user=manager, time_zone="Asia/Tokyo")
    client.force_login(manager)
    session = client.session
    del session[SESSION_TIME_ZONE_KEY]
    session.save()
    client.get(reverse("profile"))
    assert client.session[SESSION_TIME_ZONE_KEY] == "Asia/Tokyo"


# --- Selectors -----------------------------------------------------------------------------


def test_profile_for_creates_the_profile_once(manager):
    assert profile_for(manager).pk == profile_for(manager).pk
    assert Profile.objects.filter(user=manager).count() == 1


def test_preferences_default_to_the_organisation(manager):
    assert preferences_for(manager) == (settings.LANGUAGE_CODE, settings.TIME_ZONE)


def test_preferences_use_the_team_time_zone_when_the_person_chose_none(manager):
    team = Team.objects.create(name="Mexico", time_zone="America/Mexico_City")
    Profile.objects.create(user=manager, team=team)
    assert preferences_for(manager)[1] == "America/Mexico_City"


def test_preferences_use_the_person_own_choices_first(manager):
    team = Team.objects.create(name="Mexico", time_zone="America/Mexico_City")
    Profile.objects.create(user=manager, team=team, language="es", time_zone="Asia/Tokyo")
    assert preferences_for(manager) == ("es", "Asia/Tokyo")


def test_preferences_fall_back_when_a_stored_zone_is_unknown(manager):
    Profile.objects.create(user=manager, time_zone="Gone/Zone")
    assert preferences_for(manager)[1] == settings.TIME_ZONE


def test_deleting_a_user_deletes_the_profile(manager):
    profile_for(manager)
    get_user_model().objects.filter(pk=manager.pk).delete()
    assert not Profile.objects.exists()


# --- The language follows the person to a new browser -------------------------------------


def test_a_new_browser_gets_the_profile_language_after_sign_in(manager):
    Profile.objects.create(user=manager, language="es")
    browser = Client()
    browser.force_login(manager)
    response = browser.get(reverse("profile"))
    assert '<html lang="es">' in response.content.decode()
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_the_browser_language_choice_wins_over_the_profile(manager):
    Profile.objects.create(user=manager, language="es")
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    browser.force_login(manager)
    assert '<html lang="en">' in browser.get(reverse("profile")).content.decode()


def test_a_person_without_a_language_choice_keeps_the_browser_language(manager):
    browser = Client(headers={"accept-language": "es"})
    browser.force_login(manager)
    response = browser.get(reverse("profile"))
    assert '<html lang="es">' in response.content.decode()
    assert settings.LANGUAGE_COOKIE_NAME not in browser.cookies
