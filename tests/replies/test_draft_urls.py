"""Every URL of drafts and approvals per role (anonymous, community manager, supervisor,
executive, admin, and a manager of another team), and what the pages show: the reply panel on
the incident page, the autosave's answer, a stale save, the queue's decisions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.incidents.models import IncidentState
from crisis.replies import approvals, drafts
from crisis.replies.models import Reply, ReplyState
from tests.incidents.factories import NOW, manager, team
from tests.replies.helpers import case, legal_reviewer, make_supervisor

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)
ROLES = ("anonymous", "manager", "supervisor", "executive", "admin", "other_team")


@pytest.fixture
def people(db, supervisor, executive, administrator):
    care, sales = team("Care"), team("Sales")
    return {
        "anonymous": None,
        "manager": manager("cm", of=care),
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "other_team": manager("sales-cm", of=sales),
        "care": care,
    }


def _login(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])


def _incident(people):
    return case(owner=people["manager"], of=people["care"])


def _draft(people):
    incident = _incident(people)
    return drafts.start_draft(actor=people["manager"], incident=incident, now=NOW)


def _waiting(people):
    reply = _draft(people)
    return drafts.submit_draft(actor=people["manager"], reply=reply, now=NOW)


def _is_login_redirect(response):
    return response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Starting a reply ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_start_a_reply(client, people, role):
    incident = _incident(people)
    _login(client, people, role)
    response = client.post(
        reverse("replies:draft_start", args=[incident.pk]),
        {"reply-template": "0", "reply-language": "es", "reply-visibility": "public"},
    )
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 302
        assert response.url.endswith("#incident-replies")
        assert Reply.objects.get().drafted_by == people[role]
    else:
        assert response.status_code == 403
    if role not in ("manager", "supervisor"):
        assert not Reply.objects.exists()


def test_a_colleague_of_the_same_team_cannot_start_a_reply_on_an_owned_incident(client, people):
    colleague = manager("colleague", of=people["care"])
    incident = _incident(people)
    client.force_login(colleague)
    response = client.post(
        reverse("replies:draft_start", args=[incident.pk]),
        {"reply-template": "0", "reply-language": "es", "reply-visibility": "public"},
    )
    assert response.status_code == 403
    assert not Reply.objects.exists()


def test_starting_a_second_reply_is_a_message_not_an_error(client, people):
    reply = _draft(people)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_start", args=[reply.incident_id]),
        {"reply-template": "blank", "reply-language": "en", "reply-visibility": "private"},
        follow=True,
    )
    assert response.status_code == 200
    assert "already has a reply in progress" in response.content.decode()


def test_an_unknown_incident_is_not_found(client, people):
    client.force_login(people["manager"])
    assert client.post(reverse("replies:draft_start", args=[999999])).status_code == 404


# --- The editor --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_editor_page(client, people, role):
    reply = _draft(people)
    _login(client, people, role)
    response = client.get(reverse("replies:draft", args=[reply.pk]))
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 200
        assert f'id="draft-text-{reply.pk}"' in response.content.decode()
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_save(client, people, role):
    reply = _draft(people)
    _login(client, people, role)
    response = client.post(
        reverse("replies:draft_save", args=[reply.pk]), {"text": "Hola, lo vemos.", "revision": 1}
    )
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 302
        assert (reply.text, reply.revision) == ("Hola, lo vemos.", 2)
        return
    else:
        assert response.status_code == 403
    assert reply.revision == 1


def test_autosave_answers_with_the_status_and_the_new_revision(client, people):
    reply = _draft(people)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_save", args=[reply.pk]),
        {"text": "Hola {brand}, " + "a" * 300, "revision": 1},
        headers={"HX-Request": "true"},
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert f'id="draft-status-{reply.pk}"' in fragment
    assert 'value="2" id="draft-revision-' in fragment and 'hx-swap-oob="true"' in fragment
    assert "Saved at" in fragment
    assert "<code>{brand}</code>" in fragment
    assert (
        "Longer than the platform allows" in fragment and "data-over-limit hidden" not in fragment
    )


def test_a_stale_autosave_says_so_and_keeps_the_stored_revision(client, people):
    reply = _draft(people)
    drafts.save_draft(actor=people["manager"], reply=reply, text="other tab", now=LATER)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_save", args=[reply.pk]),
        {"text": "this tab", "revision": 1},
        headers={"HX-Request": "true"},
    )
    fragment = response.content.decode()
    assert "changed in another tab" in fragment
    assert "hx-swap-oob" not in fragment
    reply.refresh_from_db()
    assert reply.text == "other tab"


def test_a_stale_save_without_javascript_shows_both_texts(client, people):
    reply = _draft(people)
    drafts.save_draft(actor=people["manager"], reply=reply, text="stored elsewhere", now=LATER)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_save", args=[reply.pk]), {"text": "my words", "revision": 1}
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert "changed in another tab" in page
    assert "stored elsewhere" in page
    assert ">my words</textarea>" in page
    assert f'name="revision" value="2" id="draft-revision-{reply.pk}"' in page


@pytest.mark.parametrize("role", ROLES)
def test_submit(client, people, role):
    reply = _draft(people)
    _login(client, people, role)
    response = client.post(
        reverse("replies:draft_submit", args=[reply.pk]), {"text": reply.text, "revision": 1}
    )
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 302
        assert reply.state == ReplyState.AWAITING_APPROVAL
        return
    else:
        assert response.status_code == 403
    assert reply.state == ReplyState.DRAFT


def test_submitting_over_the_limit_is_refused_with_a_message(client, people):
    reply = _draft(people)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_submit", args=[reply.pk]),
        {"text": "a" * 301, "revision": 1},
        follow=True,
    )
    assert "the platform takes at most 300" in response.content.decode()
    reply.refresh_from_db()
    assert (reply.state, reply.text) == (ReplyState.DRAFT, "a" * 301)  # saved, not submitted


@pytest.mark.parametrize("role", ROLES)
def test_start_again_from_a_template(client, people, role):
    reply = _draft(people)
    _login(client, people, role)
    response = client.post(
        reverse("replies:draft_template", args=[reply.pk]),
        {"template": reply.template_key, "language": "en", "revision": 1},
    )
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 302
        assert (reply.language, reply.template_key) == ("en", "complaint_company_fault:en:0")
        return
    else:
        assert response.status_code == 403
    assert reply.language == "es"


@pytest.mark.parametrize("role", ROLES)
def test_discard(client, people, role):
    reply = _draft(people)
    _login(client, people, role)
    response = client.post(reverse("replies:draft_discard", args=[reply.pk]), {"revision": 1})
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role in ("manager", "supervisor"):
        assert response.status_code == 302
        assert reply.state == ReplyState.DISCARDED
        return
    else:
        assert response.status_code == 403
    assert reply.state == ReplyState.DRAFT


# --- The queue and its decisions -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_approval_queue(client, people, role):
    reply = _waiting(people)
    _login(client, people, role)
    response = client.get(reverse("approvals"))
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role == "supervisor":
        assert response.status_code == 200
        assert f'id="approval-{reply.pk}"' in response.content.decode()
    else:
        assert response.status_code == 403


def test_a_legal_reviewer_opens_the_queue(client, people):
    lawyer = legal_reviewer(manager("lawyer"))
    client.force_login(lawyer)
    assert client.get(reverse("approvals")).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_approve(client, people, role):
    reply = _waiting(people)
    _login(client, people, role)
    response = client.post(reverse("replies:approve", args=[reply.pk]), {"revision": 1})
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role == "supervisor":
        assert (response.status_code, response.url) == (302, reverse("approvals"))
        assert reply.state == ReplyState.APPROVED
        return
    else:
        assert response.status_code == 403
    assert reply.state == ReplyState.AWAITING_APPROVAL


@pytest.mark.parametrize("role", ROLES)
def test_send_back(client, people, role):
    reply = _waiting(people)
    _login(client, people, role)
    response = client.post(
        reverse("replies:send_back", args=[reply.pk]), {"revision": 1, "comment": "Más corto."}
    )
    reply.refresh_from_db()
    if role == "anonymous":
        assert _is_login_redirect(response)
    elif role == "supervisor":
        assert response.status_code == 302
        assert (reply.state, reply.sent_back_comment) == (ReplyState.DRAFT, "Más corto.")
        return
    else:
        assert response.status_code == 403
    assert reply.state == ReplyState.AWAITING_APPROVAL


def test_edit_and_approve_from_the_queue(client, people):
    reply = _waiting(people)
    client.force_login(people["supervisor"])
    client.post(
        reverse("replies:approve", args=[reply.pk]), {"revision": 1, "text": "Hola, ya está."}
    )
    reply.refresh_from_db()
    assert (reply.state, reply.text, reply.revision) == (ReplyState.APPROVED, "Hola, ya está.", 2)


def test_approving_an_own_draft_from_the_queue_is_a_message(client, people):
    own = drafts.submit_draft(
        actor=people["supervisor"],
        reply=drafts.start_draft(
            actor=people["supervisor"], incident=case(owner=people["supervisor"]), now=NOW
        ),
        now=NOW,
    )
    client.force_login(people["supervisor"])
    page = client.get(reverse("approvals")).content.decode()
    assert "You wrote this reply" in page
    assert reverse("replies:approve", args=[own.pk]) not in page
    response = client.post(reverse("replies:approve", args=[own.pk]), {"revision": 1}, follow=True)
    assert "Nobody approves their own draft" in response.content.decode()
    own.refresh_from_db()
    assert own.state == ReplyState.AWAITING_APPROVAL


def test_sending_back_without_a_comment_is_refused(client, people):
    reply = _waiting(people)
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("replies:send_back", args=[reply.pk]), {"revision": 1, "comment": ""}, follow=True
    )
    assert "Say what should change" in response.content.decode()
    reply.refresh_from_db()
    assert reply.state == ReplyState.AWAITING_APPROVAL


def test_a_legal_reviewer_cannot_decide_on_a_reply_without_a_legal_matter(client, people):
    reply = _waiting(people)
    lawyer = legal_reviewer(manager("lawyer"))
    client.force_login(lawyer)
    assert (
        client.post(reverse("replies:approve", args=[reply.pk]), {"revision": 1}).status_code == 403
    )


# --- The panel on the incident page ----------------------------------------------------------


def _incident_page(client, user, incident):
    client.force_login(user)
    return client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()


def test_the_owner_sees_how_to_start_a_reply(client, people):
    incident = _incident(people)
    page = _incident_page(client, people["manager"], incident)
    assert reverse("replies:draft_start", args=[incident.pk]) in page
    assert "Hola {author}, tienes toda la razón" in page  # the template offered
    assert "A blank reply" in page


def test_the_owner_edits_the_draft_beside_the_authors_message(client, people):
    reply = _draft(people)
    page = _incident_page(client, people["manager"], reply.incident)
    assert f'id="draft-text-{reply.pk}"' in page
    assert reply.in_reply_to.text in page
    assert 'data-limit="300"' in page
    assert reverse("replies:draft_submit", args=[reply.pk]) in page


def test_a_colleague_sees_the_draft_read_only(client, people):
    reply = _draft(people)
    page = _incident_page(client, manager("colleague", of=people["care"]), reply.incident)
    assert f'id="draft-text-{reply.pk}"' not in page
    assert reply.text.split(",")[0] in page
    assert reverse("replies:draft_start", args=[reply.incident_id]) not in page


def test_the_author_sees_why_the_draft_was_sent_back(client, people):
    reply = _waiting(people)
    approvals.send_back_reply(
        actor=people["supervisor"], reply=reply, comment="Sin promesas de plazo.", now=LATER
    )
    page = _incident_page(client, people["manager"], reply.incident)
    assert "Sent back by boss" in page
    assert "Sin promesas de plazo." in page


def test_a_waiting_reply_shows_which_approvals_are_missing(client, people):
    reply = _waiting(people)
    page = _incident_page(client, people["manager"], reply.incident)
    assert "Waiting for approval since" in page
    assert "Still needed:" in page and "supervisor" in page


def test_the_panel_escapes_the_reply_text(client, people):
    reply = _draft(people)
    drafts.save_draft(
        actor=people["manager"], reply=reply, text="<img src=x onerror=alert(1)>", now=LATER
    )
    page = _incident_page(client, make_supervisor("boss2"), reply.incident)
    assert "<img src=x onerror=alert(1)>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_resolved_incident_offers_no_new_reply(client, people):
    incident = case(owner=people["manager"], of=people["care"], state=IncidentState.RESOLVED)
    page = _incident_page(client, people["manager"], incident)
    assert reverse("replies:draft_start", args=[incident.pk]) not in page


def test_after_a_reply_went_out_another_one_is_a_deliberate_click(client, people):
    reply = _draft(people)
    Reply.objects.filter(pk=reply.pk).update(state=ReplyState.SENT, sent_at=LATER)
    page = _incident_page(client, people["manager"], reply.incident)
    assert "Replies sent" in page
    assert "<summary>Start another reply</summary>" in page
    assert reverse("replies:draft_start", args=[reply.incident_id]) in page


# --- Any input -------------------------------------------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(max_size=400),
    revision=st.one_of(st.integers(), st.text(max_size=5)),
    htmx=st.booleans(),
)
def test_any_save_gets_an_answer_and_stores_clean_text(client, people, text, revision, htmx):
    reply = Reply.objects.filter(state=ReplyState.DRAFT).first() or _draft(people)
    client.force_login(people["manager"])
    response = client.post(
        reverse("replies:draft_save", args=[reply.pk]),
        {"text": text, "revision": revision},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code in (200, 302, 400, 409)
    reply.refresh_from_db()
    assert "\x00" not in reply.text
