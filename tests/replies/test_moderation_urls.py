"""Moderation pages per role: the supervisors' queue, a request, its decisions, and the request
form of a mention (anonymous visitors, managers of the incident's team and of another team,
supervisors, executives and admins)."""

import pytest
from django.urls import reverse

from crisis.incidents.models import IncidentState
from crisis.replies import moderation
from crisis.replies.models import ModerationAction, ModerationRequest, ModerationState
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, manager, scored_mention, team

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Insults a named employee; hiding it while we answer in private."
ROLES = ("anonymous", "owner", "colleague", "outsider", "supervisor", "executive", "admin")


@pytest.fixture
def people(supervisor, executive, administrator):
    care = team("Care")
    return {
        "owner": manager("cm-owner", of=care),
        "colleague": manager("cm-colleague", of=care),
        "outsider": manager("cm-sales", of=team("Sales")),
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "care": care,
    }


@pytest.fixture
def case(people):
    return incident(state=IncidentState.IN_PROGRESS, owner=people["owner"], of=people["care"])


def _pending(people, case) -> ModerationRequest:
    return moderation.request_moderation(
        actor=people["owner"],
        mention=case.first_mention,
        action=ModerationAction.DELETE,
        justification=JUSTIFICATION,
        incident=case,
        now=NOW,
    )


def _approved_by_hand(people, case) -> ModerationRequest:
    return moderation.request_moderation(
        actor=people["owner"],
        mention=case.first_mention,
        action=ModerationAction.HIDE,
        justification=JUSTIFICATION,
        incident=case,
        now=NOW,
    )


def _login(client, people, role):
    if role != "anonymous":
        client.force_login(people[role])


# --- the queue ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_queue_is_for_supervisors(client, people, case, role):
    _pending(people, case)
    _login(client, people, role)
    response = client.get(reverse("replies:moderation_queue"))
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role == "supervisor":
        assert response.status_code == 200
        assert JUSTIFICATION in response.content.decode()
    else:
        assert response.status_code == 403


def test_the_queue_lists_the_oldest_first_and_pages(client, people, supervisor):
    care = people["care"]
    made = []
    for minute in range(moderation_page_size() + 3):
        case = incident(state=IncidentState.IN_PROGRESS, owner=people["owner"], of=care)
        made.append(
            moderation.request_moderation(
                actor=people["owner"],
                mention=case.first_mention,
                action=ModerationAction.DELETE,
                justification=f"{JUSTIFICATION} ({minute})",
                incident=case,
                now=NOW.replace(minute=minute),
            )
        )
    client.force_login(supervisor)
    first = client.get(reverse("replies:moderation_queue")).content.decode()
    assert f'id="moderation-request-{made[0].pk}"' in first
    assert f'id="moderation-request-{made[-1].pk}"' not in first
    assert first.index(f"request-{made[0].pk}") < first.index(f"request-{made[1].pk}")
    second = client.get(reverse("replies:moderation_queue"), {"page": 2}).content.decode()
    assert f'id="moderation-request-{made[-1].pk}"' in second


def moderation_page_size() -> int:
    from crisis.replies.views.moderation import QUEUE_PAGE_SIZE

    return QUEUE_PAGE_SIZE


def test_the_queue_shows_an_empty_state(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("replies:moderation_queue"))
    assert "No moderation request is waiting for a decision." in response.content.decode()


def test_platform_text_is_escaped_in_the_queue(client, people, supervisor):
    case = incident(state=IncidentState.IN_PROGRESS, owner=people["owner"], of=people["care"])
    case.first_mention.text = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case.first_mention.save(update_fields=["text"])
    _pending(people, case)
    client.force_login(supervisor)
    page = client.get(reverse("replies:moderation_queue")).content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_the_requester_is_not_offered_to_approve(client, people, case, supervisor):
    other = UserFactory(username="boss-two", role=Role.SUPERVISOR)
    request = moderation.request_moderation(
        actor=supervisor,
        mention=case.first_mention,
        action=ModerationAction.DELETE,
        justification=JUSTIFICATION,
        incident=case,
        now=NOW,
    )
    client.force_login(supervisor)
    page = client.get(reverse("replies:moderation_queue")).content.decode()
    assert reverse("replies:moderation_approve", args=[request.pk]) not in page
    assert "another supervisor approves it" in page
    response = client.post(reverse("replies:moderation_approve", args=[request.pk]))
    assert response.status_code == 403
    client.force_login(other)
    page = client.get(reverse("replies:moderation_queue")).content.decode()
    assert reverse("replies:moderation_approve", args=[request.pk]) in page


# --- one request ----------------------------------------------------------------------------

DETAIL_ALLOWED = {"owner", "colleague", "supervisor"}


@pytest.mark.parametrize("role", ROLES)
def test_a_request_is_seen_by_who_sees_its_incident(client, people, case, role):
    request = _pending(people, case)
    _login(client, people, role)
    response = client.get(reverse("replies:moderation_detail", args=[request.pk]))
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role in DETAIL_ALLOWED:
        assert response.status_code == 200
        assert "Deleting on" in response.content.decode()
    else:
        assert response.status_code == 403


def test_a_missing_request_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("replies:moderation_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_approves(client, people, case, role):
    request = _pending(people, case)
    _login(client, people, role)
    response = client.post(
        reverse("replies:moderation_approve", args=[request.pk]), {"approve-comment": "ok"}
    )
    request.refresh_from_db()
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role == "supervisor":
        assert response.status_code == 302
        assert request.state == ModerationState.APPROVED
        return
    else:
        assert response.status_code == 403
    assert request.state == ModerationState.REQUESTED


@pytest.mark.parametrize("role", ROLES)
def test_only_a_supervisor_rejects(client, people, case, role):
    request = _pending(people, case)
    _login(client, people, role)
    response = client.post(
        reverse("replies:moderation_reject", args=[request.pk]),
        {"reject-comment": "Answer it instead."},
    )
    request.refresh_from_db()
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role == "supervisor":
        assert response.status_code == 302
        assert request.state == ModerationState.REJECTED
        return
    else:
        assert response.status_code == 403
    assert request.state == ModerationState.REQUESTED


def test_rejecting_without_a_comment_is_a_message_not_an_error(client, people, case, supervisor):
    request = _pending(people, case)
    client.force_login(supervisor)
    response = client.post(
        reverse("replies:moderation_reject", args=[request.pk]),
        {"reject-comment": " "},
        follow=True,
    )
    assert response.status_code == 200
    assert "say why in a comment" in response.content.decode()
    request.refresh_from_db()
    assert request.state == ModerationState.REQUESTED


def test_a_decision_returns_to_the_queue(client, people, case, supervisor):
    request = _pending(people, case)
    client.force_login(supervisor)
    queue = reverse("replies:moderation_queue") + "?show=pending"
    response = client.post(
        reverse("replies:moderation_approve", args=[request.pk]), {"next": queue}
    )
    assert response.url == queue
    outside = client.post(
        reverse("replies:moderation_reject", args=[request.pk]),
        {"next": "https://evil.example/", "reject-comment": "x"},
    )
    assert outside.url == reverse("replies:moderation_detail", args=[request.pk])


WORK_ALLOWED = {"owner", "supervisor"}


@pytest.mark.parametrize("role", ROLES)
def test_marking_done_by_hand_is_for_who_may_act_on_the_incident(client, people, case, role):
    request = _approved_by_hand(people, case)
    _login(client, people, role)
    response = client.post(reverse("replies:moderation_done_by_hand", args=[request.pk]))
    request.refresh_from_db()
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role in WORK_ALLOWED:
        assert response.status_code == 302
        assert request.state == ModerationState.DONE
        assert request.done_by_hand
        return
    else:
        assert response.status_code == 403
    assert request.state == ModerationState.APPROVED


@pytest.mark.parametrize("role", ROLES)
def test_retrying_is_for_who_may_act_on_the_incident(client, people, case, role):
    request = _approved_by_hand(people, case)
    ModerationRequest.objects.filter(pk=request.pk).update(
        state=ModerationState.FAILED, last_error="HTTP 500"
    )
    _login(client, people, role)
    response = client.post(reverse("replies:moderation_retry", args=[request.pk]), follow=True)
    request.refresh_from_db()
    if role == "anonymous":
        assert response.redirect_chain[0][0].startswith(reverse("login"))
    elif role in WORK_ALLOWED:
        # The mention's source has no account that can hide: a clear message, no error page.
        assert response.status_code == 200
        assert "do it by hand" in response.content.decode()
    else:
        assert response.status_code == 403
    assert request.state == ModerationState.FAILED


def test_the_by_hand_page_links_to_the_mention_and_offers_to_mark_it_done(client, people, case):
    case.first_mention.url = "https://bsky.app/profile/someone/post/abc"
    case.first_mention.save(update_fields=["url"])
    request = _approved_by_hand(people, case)
    client.force_login(people["owner"])
    page = client.get(reverse("replies:moderation_detail", args=[request.pk])).content.decode()
    assert "Do it by hand on Bluesky" in page
    assert 'href="https://bsky.app/profile/someone/post/abc"' in page
    assert reverse("replies:moderation_done_by_hand", args=[request.pk]) in page


# --- the request form -----------------------------------------------------------------------

FORM_ALLOWED = {"owner", "supervisor"}


def _form_url(case, mention=None) -> str:
    mention = mention or case.first_mention
    return reverse("replies:moderation_request", args=[case.pk, mention.pk])


@pytest.mark.parametrize("role", ROLES)
def test_the_request_form_is_for_who_may_act_on_the_incident(client, people, case, role):
    _login(client, people, role)
    response = client.get(_form_url(case))
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role in FORM_ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_asking_is_for_who_may_act_on_the_incident(client, people, case, role):
    _login(client, people, role)
    response = client.post(_form_url(case), {"action": "hide", "justification": JUSTIFICATION})
    made = ModerationRequest.objects.filter(mention=case.first_mention)
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif role in FORM_ALLOWED:
        assert response.status_code == 302
        assert response.url.endswith("#incident-moderation")
        assert made.get().requested_by == people[role]
        return
    else:
        assert response.status_code == 403
    assert not made.exists()


def test_a_mention_outside_the_thread_is_404(client, people, case):
    client.force_login(people["owner"])
    assert client.get(_form_url(case, scored_mention())).status_code == 404


def test_a_blank_justification_is_a_form_error(client, people, case):
    client.force_login(people["owner"])
    response = client.post(_form_url(case), {"action": "hide", "justification": "   "})
    assert response.status_code == 400
    assert "justification" in response.content.decode().lower()
    assert not ModerationRequest.objects.exists()


def test_deleting_asks_for_confirmation_first(client, people, case):
    client.force_login(people["owner"])
    data = {"action": "delete", "justification": JUSTIFICATION}
    confirm = client.post(_form_url(case), data)
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Deleting is final" in page
    assert 'name="confirmed" value="True"' in page
    assert not ModerationRequest.objects.exists()
    done = client.post(_form_url(case), {**data, "confirmed": "True"})
    assert done.status_code == 302
    request = ModerationRequest.objects.get()
    assert request.action == ModerationAction.DELETE
    assert request.state == ModerationState.REQUESTED


def test_a_second_request_while_one_is_open_is_refused_with_a_message(client, people, case):
    _pending(people, case)
    client.force_login(people["owner"])
    page = client.get(_form_url(case)).content.decode()
    assert "is not finished" in page
    response = client.post(
        _form_url(case), {"action": "hide", "justification": JUSTIFICATION}, follow=True
    )
    assert response.status_code == 200
    assert ModerationRequest.objects.count() == 1


# --- the incident page and the navigation ---------------------------------------------------


def test_the_incident_page_shows_the_panel_and_the_badge_once_hidden(client, people, case):
    client.force_login(people["owner"])
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert 'id="incident-moderation"' in page
    assert _form_url(case) in page
    assert "Hidden on the platform</span>" not in page
    request = _approved_by_hand(people, case)
    moderation.mark_moderation_done_by_hand(actor=people["owner"], request=request, now=NOW)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert 'class="badge moderation-badge moderation-hidden">Hidden on the platform' in page
    assert "Show again or delete on the platform" in page


def test_a_colleague_sees_the_status_but_no_request_form(client, people, case):
    client.force_login(people["colleague"])
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert 'id="incident-moderation"' in page
    assert _form_url(case) not in page


def test_the_badges_of_a_page_cost_one_query(client, people, case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        scored_mention(reply_to=case.first_mention)
    client.force_login(people["owner"])
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("incidents:detail", args=[case.pk]))
    done_lookups = [
        query["sql"]
        for query in captured.captured_queries
        if "replies_moderationrequest" in query["sql"] and "\"state\" = 'done'" in query["sql"]
    ]
    assert len(done_lookups) == 1


def test_supervisors_see_the_moderation_link_with_the_number_waiting(client, people, case):
    _pending(people, case)
    client.force_login(people["supervisor"])
    page = client.get(reverse("replies:moderation_queue")).content.decode()
    assert 'class="moderation-nav"' in page
    assert '1<span class="visually-hidden"> waiting for approval' in page
    client.force_login(people["owner"])
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert 'class="moderation-nav"' not in page
