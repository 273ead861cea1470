"""Admin is a role, not a superuser (issue 8, found items 8 and 11): it holds exactly its
role's permissions, reads Calma's records in Django admin without changing them, and
lands on Calma's Sources page with a way back and forth."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crisis.demo import create_demo_users
from crisis.models import AuditEvent
from crisis.roles import ROLE_PERMISSIONS, Perm, Role, roles_of
from crisis.services.audit import record_audit_event
from monitoring.models import Source
from tests.factories import UserFactory
from tests.monitoring.factories import make_source

CALMA_ADMIN_PAGES = [
    "admin:monitoring_source_changelist",
    "admin:monitoring_mention_changelist",
    "admin:monitoring_author_changelist",
    "admin:monitoring_quarantineditem_changelist",
    "admin:protocols_protocolversion_changelist",
    "admin:crisis_auditevent_changelist",
]


def test_demo_admin_is_staff_but_not_a_superuser(db):
    create_demo_users()
    admin_user = Group.objects.get(name=Role.ADMIN.value).user_set.get(username="admin")
    assert admin_user.is_staff
    assert not admin_user.is_superuser


@pytest.mark.parametrize(
    "permission", [Perm.APPROVE_REPLIES, Perm.EDIT_PROTOCOL, Perm.TRIAGE, Perm.DECLARE_CRISIS]
)
def test_demo_admin_cannot_approve_edit_protocols_or_triage(db, permission):
    create_demo_users()
    admin_user = Group.objects.get(name=Role.ADMIN.value).user_set.get(username="admin")
    assert not admin_user.has_perm(permission)


def test_admin_holds_exactly_its_role_permissions(administrator):
    granted = {name for name in vars(Perm).values() if isinstance(name, str) and "." in name}
    held = {name for name in granted if administrator.has_perm(name)}
    assert held == set(ROLE_PERMISSIONS[Role.ADMIN])


def test_admin_is_refused_the_protocol_editor(client, administrator):
    client.force_login(administrator)
    assert client.get(reverse("protocols:list")).status_code == 403


def test_superuser_flag_adds_no_role(db):
    operator = UserFactory(username="operator", is_superuser=True, is_staff=True)
    assert roles_of(operator) == set()


@pytest.mark.parametrize("url_name", CALMA_ADMIN_PAGES)
def test_admin_reads_calma_records_in_django_admin(client, administrator, url_name):
    client.force_login(administrator)
    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("user_fixture", ["administrator", "operator"])
def test_nobody_adds_a_source_in_django_admin(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get(reverse("admin:monitoring_source_add")).status_code == 403


@pytest.mark.parametrize("user_fixture", ["administrator", "operator"])
def test_a_source_cannot_be_changed_in_django_admin(client, db, request, user_fixture):
    source = make_source(name="Original")
    client.force_login(request.getfixturevalue(user_fixture))
    url = reverse("admin:monitoring_source_change", args=[source.pk])
    response = client.post(url, {"name": "Changed in admin"})
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).name == "Original"


def test_a_source_cannot_be_deleted_in_django_admin(client, operator):
    source = make_source()
    client.force_login(operator)
    url = reverse("admin:monitoring_source_delete", args=[source.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()


def test_source_in_django_admin_links_to_its_calma_page(client, administrator):
    source = make_source()
    client.force_login(administrator)
    response = client.get(reverse("admin:monitoring_source_change", args=[source.pk]))
    assert reverse("monitoring:source_detail", args=[source.pk]) in response.content.decode()


def test_audit_log_is_read_only_in_django_admin(client, administrator):
    event = record_audit_event(actor=None, verb="test.event")
    client.force_login(administrator)
    change_url = reverse("admin:crisis_auditevent_change", args=[event.pk])
    assert client.get(change_url).status_code == 200
    assert client.post(change_url, {"verb": "rewritten"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).verb == "test.event"


@pytest.mark.parametrize("url_name", ["admin:auth_user_changelist", "admin:auth_group_changelist"])
def test_admin_role_cannot_manage_users_or_groups_in_django_admin(client, administrator, url_name):
    client.force_login(administrator)
    assert client.get(reverse(url_name)).status_code == 403


def test_operator_superuser_manages_users_in_django_admin(client, operator):
    client.force_login(operator)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200


def test_django_admin_view_site_points_to_calma_home(client, administrator):
    client.force_login(administrator)
    content = client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{reverse("home")}">' in content


def test_admin_lands_on_sources_with_a_link_to_django_admin(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("monitoring:sources")
    assert f'href="{reverse("admin:index")}"' in response.content.decode()


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_superuser=True, is_staff=True)
