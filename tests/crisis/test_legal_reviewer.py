"""The legal reviewer capability: an admin grants it on a person's page, on top of a role; a
change of roles keeps it unless the admin says otherwise; legal reviewers find the approval
queue in the navigation; and the demo seeds one, plus publishing accounts on the simulator."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from crisis.demo import create_demo_legal_reviewer, create_demo_publishing_accounts
from crisis.models import AuditEvent
from crisis.people import services
from crisis.replies.models import PublishingAccount, SourceAccount
from crisis.roles import LEGAL_REVIEWER_GROUP, Perm, Role, roles_of
from monitoring.demo import create_demo_sources
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    return UserFactory(username="lucia", role=Role.SUPERVISOR)


def test_admin_grants_legal_reviewer_on_the_person_page(client, administrator, person):
    client.force_login(administrator)
    response = client.post(
        reverse("people:detail", args=[person.pk]),
        {"roles": [Role.SUPERVISOR.value], "legal_reviewer": "on"},
        follow=True,
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.has_perm(Perm.APPROVE_LEGAL)
    assert roles_of(person) == {Role.SUPERVISOR}
    event = AuditEvent.objects.filter(verb="person.roles_changed").latest("id")
    assert event.before["legal_reviewer"] is False
    assert event.after["legal_reviewer"] is True


def test_changing_roles_without_saying_keeps_the_legal_reviewer_capability(administrator, person):
    services.change_roles(
        actor=administrator, person=person, roles=[Role.SUPERVISOR], legal_reviewer=True
    )
    services.change_roles(actor=administrator, person=person, roles=[Role.COMMUNITY_MANAGER])
    person = type(person).objects.get(pk=person.pk)
    assert roles_of(person) == {Role.COMMUNITY_MANAGER}
    assert person.groups.filter(name=LEGAL_REVIEWER_GROUP).exists()


def test_unticking_legal_reviewer_removes_it(client, administrator, person):
    services.change_roles(
        actor=administrator, person=person, roles=[Role.SUPERVISOR], legal_reviewer=True
    )
    client.force_login(administrator)
    client.post(reverse("people:detail", args=[person.pk]), {"roles": [Role.SUPERVISOR.value]})
    person = type(person).objects.get(pk=person.pk)
    assert not person.has_perm(Perm.APPROVE_LEGAL)


def test_a_legal_reviewer_without_the_supervisor_role_sees_approvals_in_the_navigation(
    client, administrator
):
    reviewer = UserFactory(username="abogada", role=Role.COMMUNITY_MANAGER)
    services.change_roles(
        actor=administrator, person=reviewer, roles=[Role.COMMUNITY_MANAGER], legal_reviewer=True
    )
    client.force_login(reviewer)
    page = client.get(reverse("inbox")).content.decode()
    assert f'href="{reverse("approvals")}"' in page


def test_the_demo_seeds_a_legal_reviewer_who_is_a_supervisor():
    login = create_demo_legal_reviewer()
    user = get_user_model().objects.get(username=login.username)
    assert roles_of(user) == {Role.SUPERVISOR}
    assert user.has_perm(Perm.APPROVE_LEGAL)


def test_the_demo_links_each_answerable_source_to_a_publishing_account():
    sources = create_demo_sources("http://127.0.0.1:8090", "UCdemo")
    accounts = create_demo_publishing_accounts(sources)
    again = create_demo_publishing_accounts(sources)  # idempotent
    assert sorted(account.platform for account in accounts) == [
        "bluesky",
        "mastodon",
        "reddit",
        "youtube",
    ]
    assert [account.pk for account in again] == [account.pk for account in accounts]
    assert PublishingAccount.objects.count() == 4
    feeds = [source for source in sources if source.platform == "feed"]
    assert not SourceAccount.objects.filter(source__in=feeds).exists()
    assert all(account.credentials_ref == "SIMULATOR" for account in accounts)
