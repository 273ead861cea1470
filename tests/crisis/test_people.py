"""The People page (issue 8, found item 8: admin is no longer a superuser, so it manages
people in Calma): who may open it, and each service with its permission and audit event."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crisis.models import AuditEvent
from crisis.people import services
from crisis.people.selectors import PEOPLE_PER_PAGE
from crisis.roles import Role, roles_of
from tests.factories import UserFactory

SITE = services.LinkSite(domain="calma.example.org", use_https=True)

GET_PAGES = ["people:list", "people:create", "people:detail", "people:deactivate"]
POST_ACTIONS = ["people:unlock", "people:password_reset"]


def url_for(url_name: str, person) -> str:
    if url_name in ("people:list", "people:create"):
        return reverse(url_name)
    return reverse(url_name, args=[person.pk])


@pytest.fixture
def person(db):
    return UserFactory(username="newcomer", role=Role.COMMUNITY_MANAGER)


# --- Who may open what --------------------------------------------------------------------


@pytest.mark.parametrize("url_name", GET_PAGES + POST_ACTIONS)
def test_anonymous_is_sent_to_login(client, person, url_name):
    response = client.get(url_for(url_name, person))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role_fixture", ["manager", "supervisor", "executive"])
@pytest.mark.parametrize("url_name", GET_PAGES)
def test_other_roles_are_refused_people_pages(client, request, person, role_fixture, url_name):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(url_for(url_name, person)).status_code == 403


@pytest.mark.parametrize("role_fixture", ["manager", "supervisor", "executive"])
@pytest.mark.parametrize("url_name", POST_ACTIONS)
def test_other_roles_are_refused_people_actions(client, request, person, role_fixture, url_name):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.post(url_for(url_name, person)).status_code == 403


@pytest.mark.parametrize("url_name", GET_PAGES)
def test_admin_opens_people_pages(client, administrator, person, url_name):
    client.force_login(administrator)
    assert client.get(url_for(url_name, person)).status_code == 200


@pytest.mark.parametrize("url_name", POST_ACTIONS)
def test_admin_runs_people_actions(client, administrator, person, url_name):
    client.force_login(administrator)
    response = client.post(url_for(url_name, person), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("people:detail", args=[person.pk])


# --- The list -------------------------------------------------------------------------------


def test_list_shows_each_person_with_roles_and_state(client, administrator, person):
    client.force_login(administrator)
    content = client.get(reverse("people:list")).content.decode()
    assert "newcomer" in content
    assert str(Role.COMMUNITY_MANAGER.label) in content
    assert "never" in content  # last sign-in


def test_list_is_paginated(client, administrator):
    for number in range(PEOPLE_PER_PAGE + 1):
        UserFactory(username=f"person{number:03}")
    client.force_login(administrator)
    response = client.get(reverse("people:list"))
    assert len(response.context["page"].object_list) == PEOPLE_PER_PAGE
    assert "?page=2" in response.content.decode()


def test_list_query_count_does_not_grow_with_people(
    client, administrator, django_assert_max_num_queries
):
    for number in range(20):
        UserFactory(username=f"person{number:03}", role=Role.EXECUTIVE)
    client.force_login(administrator)
    with django_assert_max_num_queries(12):
        client.get(reverse("people:list"))


# --- Create and invite ----------------------------------------------------------------------


def test_create_person_invites_them_by_email(administrator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.create_person(
            actor=administrator,
            username="lucia",
            first_name="Lucía",
            last_name="Pérez",
            email="lucia@example.org",
            role=Role.SUPERVISOR,
            site=SITE,
        )
    assert roles_of(created) == {Role.SUPERVISOR}
    assert not created.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lucia@example.org"]
    assert "https://calma.example.org/accounts/reset/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(verb="person.created", object_id=str(created.pk)).exists()


def test_invited_person_sets_a_password_through_the_link_and_signs_in(
    client, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_person(
            actor=administrator,
            username="lucia",
            first_name="",
            last_name="",
            email="lucia@example.org",
            role=Role.EXECUTIVE,
            site=SITE,
        )
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("calma.example.org", 1)[1]
    form_page = client.get(path, follow=True)
    new_password = "a long and unusual passphrase 42"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    response = client.post(reverse("login"), {"username": "lucia", "password": new_password})
    assert response.status_code == 302


def test_create_page_makes_the_person(client, administrator, django_capture_on_commit_callbacks):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("people:create"),
            {"username": "pablo", "email": "pablo@example.org", "role": Role.EXECUTIVE.value},
        )
    pablo = get_user_model().objects.get(username="pablo")
    assert response.url == reverse("people:detail", args=[pablo.pk])
    assert len(mail.outbox) == 1


def test_create_page_refuses_a_taken_username(client, administrator, person):
    client.force_login(administrator)
    response = client.post(
        reverse("people:create"),
        {"username": "NEWCOMER", "email": "x@example.org", "role": Role.EXECUTIVE.value},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]


def test_only_admins_create_people(supervisor):
    with pytest.raises(PermissionDenied):
        services.create_person(
            actor=supervisor,
            username="sneaky",
            first_name="",
            last_name="",
            email="s@example.org",
            role=Role.ADMIN,
            site=SITE,
        )


# --- Roles ----------------------------------------------------------------------------------


def test_change_roles_sets_groups_and_is_audited(administrator, person):
    services.change_roles(
        actor=administrator, person=person, roles=[Role.SUPERVISOR, Role.EXECUTIVE]
    )
    assert roles_of(person) == {Role.SUPERVISOR, Role.EXECUTIVE}
    event = AuditEvent.objects.get(verb="person.roles_changed")
    assert event.before["roles"] == ["community_manager"]
    assert event.after["roles"] == ["executive", "supervisor"]


def test_giving_the_admin_role_opens_django_admin(administrator, person):
    services.change_roles(actor=administrator, person=person, roles=[Role.ADMIN])
    person.refresh_from_db()
    assert person.is_staff and not person.is_superuser


def test_taking_the_admin_role_away_closes_django_admin(administrator):
    other_admin = UserFactory(username="other-admin", role=Role.ADMIN)
    services.change_roles(actor=administrator, person=other_admin, roles=[Role.EXECUTIVE])
    other_admin.refresh_from_db()
    assert not other_admin.is_staff


def test_admin_cannot_remove_their_own_admin_role(administrator):
    with pytest.raises(ValidationError):
        services.change_roles(actor=administrator, person=administrator, roles=[Role.EXECUTIVE])
    assert Role.ADMIN in roles_of(administrator)


def test_admin_cannot_change_a_superuser(administrator):
    operator = UserFactory(username="operator", is_superuser=True, is_staff=True)
    with pytest.raises(PermissionDenied):
        services.change_roles(actor=administrator, person=operator, roles=[])


def test_roles_form_on_the_detail_page_saves(client, administrator, person):
    client.force_login(administrator)
    client.post(reverse("people:detail", args=[person.pk]), {"roles": [Role.EXECUTIVE.value]})
    assert roles_of(person) == {Role.EXECUTIVE}


# --- Deactivate / reactivate ----------------------------------------------------------------


def test_deactivate_needs_a_confirmation_step(client, administrator, person):
    client.force_login(administrator)
    response = client.get(reverse("people:deactivate", args=[person.pk]))
    assert b'type="submit"' in response.content
    person.refresh_from_db()
    assert person.is_active


def test_deactivated_person_cannot_sign_in(client, administrator, person):
    client.force_login(administrator)
    client.post(reverse("people:deactivate", args=[person.pk]))
    client.logout()
    response = client.post(
        reverse("login"), {"username": "newcomer", "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(verb="person.deactivated").count() == 1


def test_reactivated_person_signs_in_again(administrator, person):
    services.set_person_active(actor=administrator, person=person, active=False)
    services.set_person_active(actor=administrator, person=person, active=True)
    person.refresh_from_db()
    assert person.is_active
    assert AuditEvent.objects.filter(verb="person.reactivated").count() == 1


def test_admin_cannot_deactivate_themselves(client, administrator):
    client.force_login(administrator)
    client.post(reverse("people:deactivate", args=[administrator.pk]))
    administrator.refresh_from_db()
    assert administrator.is_active
    assert not AuditEvent.objects.filter(verb="person.deactivated").exists()


# --- Unlock and password reset --------------------------------------------------------------


def test_unlock_is_audited(administrator, person):
    services.unlock_person(actor=administrator, person=person)
    assert AuditEvent.objects.filter(verb="person.unlocked", object_id=str(person.pk)).exists()


def test_only_admins_unlock(supervisor, person):
    with pytest.raises(PermissionDenied):
        services.unlock_person(actor=supervisor, person=person)


def test_password_reset_sends_djangos_reset_email(
    administrator, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_password_reset(actor=administrator, person=person, site=SITE)
    assert mail.outbox[0].to == [person.email]
    assert "/accounts/reset/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(verb="person.password_reset_sent").exists()


def test_password_reset_refused_for_a_deactivated_person(administrator, person):
    services.set_person_active(actor=administrator, person=person, active=False)
    with pytest.raises(ValidationError):
        services.send_password_reset(actor=administrator, person=person, site=SITE)


def test_public_password_reset_page_is_open_to_anonymous_users(client, db):
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    assert b'name="email"' in response.content
