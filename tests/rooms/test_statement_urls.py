"""Every URL of the statement slice per role (anonymous, community manager, supervisor,
executive, admin, a cabinet member of this crisis, a cabinet member of another crisis, and the
spokesperson), what the pages show (read-only for executives, the approval for approvers, the
checklist, the diff), the autosave's answer, and the incident page's crisis panel."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisis.incidents.models import IncidentState
from crisis.rooms import statement as statements
from crisis.rooms.models import (
    CabinetRole,
    Commitment,
    Publication,
    PublicationState,
    StatementState,
    StatementVersion,
)
from tests.incidents.factories import NOW, manager, team
from tests.incidents.factories import incident as incident_factory
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, link, seat

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "manager", "supervisor", "executive", "admin", "member", "other")
TEXT = "Since 9:00 a billing fault charged some customers twice. Refunds by Friday."
VIEWERS = {"supervisor", "executive", "member", "spokesperson"}
SPEAKERS = {"supervisor", "spokesperson"}
ACTORS = {"supervisor", "member", "spokesperson"}


@pytest.fixture
def crisis(db):
    return a_crisis(level=2, commander=crisis_supervisor("commander-boss"))


@pytest.fixture
def people(crisis, supervisor, executive, administrator):
    member = cabinet_member_user("member")
    seat(crisis, member, "customer_service", CabinetRole.MEMBER)
    spokesperson = cabinet_member_user("spoke")
    seat(crisis, spokesperson, "communications", CabinetRole.SPOKESPERSON)
    other = cabinet_member_user("other-crisis")
    seat(a_crisis(title="Another crisis", commander=crisis.commander), other, "legal")
    return {
        "anonymous": None,
        "manager": manager("cm", of=team("Care")),
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "member": member,
        "other": other,
        "spokesperson": spokesperson,
    }


def login(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and reverse("login") in response.url


def draft(crisis, people, text=TEXT):
    version = statements.start_statement_version(
        actor=people["spokesperson"], crisis=crisis, now=NOW
    )
    return statements.save_statement(
        actor=people["spokesperson"], version=version, text=text, channel_texts={}, now=NOW
    )


def waiting(crisis, people):
    return statements.submit_statement(
        actor=people["spokesperson"], version=draft(crisis, people), now=NOW
    )


def approved(crisis, people):
    return statements.approve_statement(
        actor=crisis.commander, version=waiting(crisis, people), role="supervisor", now=NOW
    )


def expect(response, role, allowed: set[str], *, ok: int = 200):
    if role == "anonymous":
        assert is_login_redirect(response)
    elif role in allowed:
        assert response.status_code == ok, response.content[:500]
    else:
        assert response.status_code == 403


# --- Pages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_statement_page(client, crisis, people, role):
    approved(crisis, people)
    login(client, people, role)
    response = client.get(reverse("rooms:statement", args=[crisis.pk]))
    expect(response, role, VIEWERS)
    if response.status_code == 200:
        page = response.content.decode()
        assert "Refunds by Friday." in page
        assert 'id="statement-checklist"' in page
        writes = "Draft an update" in page
        assert writes == (role in SPEAKERS)
        assert ("Mark published" in page) == (role in ACTORS)


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_history_and_diff(client, crisis, people, role):
    approved(crisis, people)
    update = statements.start_statement_version(
        actor=people["spokesperson"], crisis=crisis, now=NOW
    )
    statements.save_statement(
        actor=people["spokesperson"],
        version=update,
        text=TEXT.replace("Friday", "Monday <b>"),
        channel_texts={},
        now=NOW,
    )
    login(client, people, role)
    history = client.get(reverse("rooms:statement_history", args=[crisis.pk]))
    expect(history, role, VIEWERS)
    diff = client.get(reverse("rooms:statement_diff", args=[crisis.pk, 2]))
    expect(diff, role, VIEWERS)
    if diff.status_code == 200:
        page = diff.content.decode()
        assert "<del>Friday</del><ins>Monday &lt;b&gt;</ins>" in page
        assert "What changed in version 2" in history.content.decode()


def test_the_first_version_has_nothing_to_compare(client, crisis, people):
    approved(crisis, people)
    client.force_login(people["supervisor"])
    page = client.get(reverse("rooms:statement_diff", args=[crisis.pk, 1])).content.decode()
    assert "This is the first version" in page
    assert client.get(reverse("rooms:statement_diff", args=[crisis.pk, 9])).status_code == 404


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_checklist_partial(client, crisis, people, role):
    approved(crisis, people)
    login(client, people, role)
    response = client.get(
        reverse("rooms:statement_checklist", args=[crisis.pk]), headers={"HX-Request": "true"}
    )
    expect(response, role, VIEWERS)
    if response.status_code == 200:
        assert response.content.decode().lstrip().startswith('<section id="statement-checklist"')


def test_a_missing_crisis_is_404(client, people):
    client.force_login(people["supervisor"])
    assert client.get(reverse("rooms:statement", args=[999_999])).status_code == 404


# --- Writing the statement -----------------------------------------------------------------------
@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_start(client, crisis, people, role):
    login(client, people, role)
    response = client.post(reverse("rooms:statement_start", args=[crisis.pk]))
    expect(response, role, SPEAKERS, ok=302)
    assert StatementVersion.objects.exists() == (role in SPEAKERS)


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_save(client, crisis, people, role):
    version = draft(crisis, people, text="Old")
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_save", args=[crisis.pk, version.pk]),
        {"text": "New text", "revision": version.revision, "channel_bluesky": "Short"},
    )
    expect(response, role, SPEAKERS, ok=302)
    version.refresh_from_db()
    if role in SPEAKERS:
        assert version.text == "New text" and version.channel_texts == {"bluesky": "Short"}
    else:
        assert version.text == "Old"


def test_autosave_answers_with_the_status_and_the_new_revision(client, crisis, people):
    version = draft(crisis, people, text="Old")
    client.force_login(people["spokesperson"])
    response = client.post(
        reverse("rooms:statement_save", args=[crisis.pk, version.pk]),
        {"text": "B" * 350, "revision": version.revision, "channel_bluesky": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="statement-status-{version.pk}"' in page
    assert 'hx-swap-oob="true"' in page and f'value="{version.revision + 1}"' in page
    assert "Bluesky: 350 characters, at most 300." in page


def test_a_stale_save_keeps_both_texts_and_says_why(client, crisis, people):
    version = draft(crisis, people, text="Stored")
    client.force_login(people["spokesperson"])
    response = client.post(
        reverse("rooms:statement_save", args=[crisis.pk, version.pk]),
        {"text": "Mine", "revision": 1},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not saved" in page and "Stored" in page and "Mine" in page
    version.refresh_from_db()
    assert version.text == "Stored"


def test_a_save_that_lost_the_race_to_its_own_autosave_is_no_conflict(client, crisis, people):
    version = draft(crisis, people, text="Same words")  # revision 2: the autosave got there
    client.force_login(people["spokesperson"])
    response = client.post(
        reverse("rooms:statement_save", args=[crisis.pk, version.pk]),
        {"text": "Same words", "revision": 1},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.text == "Same words"


def test_submitting_the_editor_without_javascript_saves_what_was_typed_first(
    client, crisis, people
):
    version = statements.start_statement_version(
        actor=people["spokesperson"], crisis=crisis, now=NOW
    )
    client.force_login(people["spokesperson"])
    response = client.post(
        reverse("rooms:statement_submit", args=[crisis.pk, version.pk]),
        {"text": "Typed without JavaScript.", "revision": version.revision},
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.text == "Typed without JavaScript."
    assert version.state == StatementState.AWAITING_APPROVAL


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_submit(client, crisis, people, role):
    version = draft(crisis, people)
    login(client, people, role)
    response = client.post(reverse("rooms:statement_submit", args=[crisis.pk, version.pk]))
    expect(response, role, SPEAKERS, ok=302)
    version.refresh_from_db()
    submitted = version.state == StatementState.AWAITING_APPROVAL
    assert submitted == (role in SPEAKERS)


def test_a_refused_submission_is_a_message(client, crisis, people):
    version = draft(crisis, people, text="C" * 400)
    client.force_login(people["spokesperson"])
    response = client.post(
        reverse("rooms:statement_submit", args=[crisis.pk, version.pk]), follow=True
    )
    assert "Bluesky takes at most 300" in response.content.decode()


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_discard(client, crisis, people, role):
    version = draft(crisis, people)
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_discard", args=[crisis.pk, version.pk]),
        {"revision": version.revision},
    )
    expect(response, role, SPEAKERS, ok=302)
    assert StatementVersion.objects.exists() == (role not in SPEAKERS)


# --- Approving ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_approve(client, crisis, people, role):
    version = waiting(crisis, people)
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_approve", args=[crisis.pk, version.pk]),
        {"role": "supervisor", "revision": version.revision},
    )
    expect(response, role, {"supervisor"}, ok=302)
    version.refresh_from_db()
    assert (version.state == StatementState.APPROVED) == (role == "supervisor")


def test_the_author_sees_no_approve_button_and_is_refused(client, crisis, people):
    version = statements.submit_statement(
        actor=people["supervisor"],
        version=statements.save_statement(
            actor=people["supervisor"],
            version=statements.start_statement_version(
                actor=people["supervisor"], crisis=crisis, now=NOW
            ),
            text=TEXT,
            channel_texts={},
            now=NOW,
        ),
        now=NOW,
    )
    client.force_login(people["supervisor"])
    page = client.get(reverse("rooms:statement", args=[crisis.pk])).content.decode()
    assert "Approve as supervisor" not in page
    assert "nobody approves a statement they drafted" in page
    response = client.post(
        reverse("rooms:statement_approve", args=[crisis.pk, version.pk]),
        {"role": "supervisor", "revision": version.revision},
    )
    assert response.status_code == 403
    client.force_login(crisis.commander)
    page = client.get(reverse("rooms:statement", args=[crisis.pk])).content.decode()
    assert "Approve as supervisor" in page


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_send_back(client, crisis, people, role):
    version = waiting(crisis, people)
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_send_back", args=[crisis.pk, version.pk]),
        {"comment": "Say when it is fixed.", "revision": version.revision},
    )
    expect(response, role, {"supervisor"}, ok=302)
    version.refresh_from_db()
    assert (version.state == StatementState.DRAFT) == (role == "supervisor")


def test_a_legal_member_of_this_crisis_approves_at_level_3(client, crisis, people):
    crisis.level = 3
    crisis.save()
    lawyer = cabinet_member_user("lawyer")
    seat(crisis, lawyer, "legal")
    version = waiting(crisis, people)
    client.force_login(lawyer)
    page = client.get(reverse("rooms:statement", args=[crisis.pk])).content.decode()
    assert "Approve as legal" in page and "Approve as supervisor" not in page
    response = client.post(
        reverse("rooms:statement_approve", args=[crisis.pk, version.pk]),
        {"role": "legal", "revision": version.revision},
    )
    assert response.status_code == 302
    assert statements.missing_roles(StatementVersion.objects.get()) == ["supervisor"]
    client.force_login(people["other"])  # a legal seat, in another crisis
    response = client.post(
        reverse("rooms:statement_approve", args=[crisis.pk, version.pk]),
        {"role": "legal", "revision": version.revision},
    )
    assert response.status_code == 403


# --- The checklist -----------------------------------------------------------------------------
@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_mark_published(client, crisis, people, role):
    version = approved(crisis, people)
    blog = Publication.objects.get(version=version, channel="blog")
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_mark_published", args=[crisis.pk, blog.pk]),
        {"url": "https://blog.example/statement"},
    )
    expect(response, role, ACTORS, ok=302)
    blog.refresh_from_db()
    assert (blog.state == PublicationState.PUBLISHED) == (role in ACTORS)


def test_a_link_that_is_not_http_is_refused_with_a_message(client, crisis, people):
    version = approved(crisis, people)
    blog = Publication.objects.get(version=version, channel="blog")
    client.force_login(people["member"])
    response = client.post(
        reverse("rooms:statement_mark_published", args=[crisis.pk, blog.pk]),
        {"url": "javascript:alert(1)"},
        follow=True,
    )
    assert "starting with http:// or https://" in response.content.decode()
    blog.refresh_from_db()
    assert blog.state == PublicationState.PENDING


@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_publish_through_the_connector(client, crisis, people, role, monkeypatch):
    from tests.replies import sending_factories as make

    account = make.account("mastodon")
    make.secrets(monkeypatch, account)
    version = approved(crisis, people)
    mastodon = Publication.objects.get(version=version, channel="mastodon")
    login(client, people, role)
    response = client.post(reverse("rooms:statement_publish", args=[crisis.pk, mastodon.pk]))
    expect(response, role, ACTORS, ok=302)
    mastodon.refresh_from_db()
    assert (mastodon.account_id == account.pk) == (role in ACTORS)


def test_a_channel_of_another_crisis_is_404(client, crisis, people):
    version = approved(crisis, people)
    other = a_crisis(title="Third", commander=crisis.commander)
    blog = Publication.objects.get(version=version, channel="blog")
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:statement_mark_published", args=[other.pk, blog.pk]),
        {"url": "https://blog.example/x"},
    )
    assert response.status_code == 404


# --- Commitments -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", (*ROLES, "spokesperson"))
def test_commitment(client, crisis, people, role):
    version = approved(crisis, people)
    login(client, people, role)
    response = client.post(
        reverse("rooms:statement_commitment", args=[crisis.pk, version.pk]),
        {
            "sentence": "Refunds by Friday.",
            # The view reads the real clock: the due date is three days from now.
            "due_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "owner": people["member"].pk,
        },
    )
    expect(response, role, SPEAKERS, ok=302)
    assert Commitment.objects.exists() == (role in SPEAKERS)


def test_commitments_show_their_task_status(client, crisis, people):
    version = approved(crisis, people)
    statements.mark_commitment(
        actor=people["spokesperson"],
        version=version,
        sentence="Refunds by Friday.",
        due_at=NOW + timedelta(days=3),
        owner=people["member"],
        now=NOW,
    )
    client.force_login(people["executive"])
    page = client.get(reverse("rooms:statement", args=[crisis.pk])).content.decode()
    assert "“Refunds by Friday.”" in page and "To do" in page and "member" in page
    assert "Mark a commitment" not in page  # read-only


# --- The room and the incident page ------------------------------------------------------------
def test_the_room_shows_the_statement_section(client, crisis, people):
    approved(crisis, people)
    client.force_login(people["member"])
    page = client.get(reverse("rooms:room", args=[crisis.pk])).content.decode()
    assert 'id="crisis-statement"' in page and "Refunds by Friday." in page
    assert "js/statement.js" in page


def test_the_incidents_manager_sees_the_approved_statement_ready_to_insert(client, crisis, people):
    care = team("Crisis care")
    owner = manager("crisis-cm", of=care)
    case = incident_factory(state=IncidentState.IN_PROGRESS, owner=owner, of=care)
    link(crisis, case)
    client.force_login(owner)
    url = reverse("incidents:detail", args=[case.pk])
    page = client.get(url).content.decode()
    assert "No statement approved yet" in page
    approved(crisis, people)
    page = client.get(url).content.decode()
    assert "Part of a crisis:" in page and crisis.title in page
    assert 'data-insert-statement="Since 9:00 a billing fault' in page
    assert "Insert into the reply" in page
    # No seat in the cabinet: the statement, not a link into the room.
    assert reverse("rooms:statement", args=[crisis.pk]) not in page
    client.force_login(people["supervisor"])
    page = client.get(url).content.decode()
    assert reverse("rooms:statement", args=[crisis.pk]) in page


def test_the_incident_page_offers_the_channel_text_of_its_platform(client, crisis, people):
    care = team("Crisis care")
    owner = manager("crisis-cm", of=care)
    case = incident_factory(state=IncidentState.IN_PROGRESS, owner=owner, of=care)
    case.first_mention.platform = "bluesky"
    case.first_mention.save()
    link(crisis, case)
    version = draft(crisis, people)
    statements.save_statement(
        actor=people["spokesperson"],
        version=version,
        text=TEXT,
        channel_texts={"bluesky": "Refunds by Friday <3"},
        now=NOW,
    )
    statements.submit_statement(actor=people["spokesperson"], version=version, now=NOW)
    statements.approve_statement(
        actor=crisis.commander, version=version, role="supervisor", now=NOW
    )
    client.force_login(owner)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "Insert the Bluesky version" in page
    assert 'data-insert-statement="Refunds by Friday &lt;3"' in page


def test_a_resolved_crisis_leaves_the_incident_page(client, crisis, people):
    care = team("Crisis care")
    owner = manager("crisis-cm", of=care)
    case = incident_factory(state=IncidentState.IN_PROGRESS, owner=owner, of=care)
    link(crisis, case)
    approved(crisis, people)
    crisis.status = "resolved"
    crisis.save()
    client.force_login(owner)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "Part of a crisis:" not in page


def test_the_statement_page_costs_the_same_queries_for_one_or_many_versions(client, crisis, people):
    def commit_to(version, times: int) -> None:
        for _ in range(times):
            statements.mark_commitment(
                actor=people["spokesperson"], version=version, sentence="Refunds by Friday.",
                due_at=NOW + timedelta(days=3), owner=people["member"], now=NOW,
            )  # fmt: skip

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("rooms:statement", args=[crisis.pk])).status_code == 200
        return len(queries)

    client.force_login(people["supervisor"])
    commit_to(approved(crisis, people), 1)
    draft(crisis, people, text=TEXT + " Draft.")
    few = cost()
    StatementVersion.objects.filter(state=StatementState.DRAFT).delete()
    for _ in range(4):
        version = approved(crisis, people)
    commit_to(version, 5)
    draft(crisis, people, text=TEXT + " Draft again.")
    assert cost() == few
