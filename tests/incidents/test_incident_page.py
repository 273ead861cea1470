"""The incident page: who may open it and act from it, and what a manager reads there before
answering (thread, author, score, topic, recommended action, contacts, triage)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crisis.incidents import services
from crisis.incidents.forms import AuthorFlagsForm, CorrectClassForm
from crisis.incidents.models import IncidentMention, IncidentState, TriageCorrection
from crisis.incidents.transitions import InvalidTransition
from crisis.models import AuditEvent
from monitoring.models import Author
from monitoring.services import set_author_flags
from protocols.models import MentionTopic
from tests.incidents.factories import NOW, author, incident, manager, scored_mention, team

pytestmark = pytest.mark.django_db

ROUTES = (
    "detail",
    "presence",
    "take",
    "ask_hand_over",
    "hand_over",
    "start",
    "escalate",
    "resolve",
    "close",
    "reopen",
    "correct_class",
    "author_flags",
)
GET_ROUTES = ("detail", "presence")


@pytest.fixture
def care(db):
    return team("Care")


@pytest.fixture
def case(care):
    """An unowned incident of the Care team."""
    return incident(state=IncidentState.NEW, of=care)


def _data(route: str, colleague=None) -> dict:
    return {
        "hand_over": {"hand_over-to_user": colleague.pk if colleague else ""},
        "escalate": {"escalate-note": "legal threat"},
        "resolve": {"resolve-note": "refunded"},
        "close": {"close-reason": "duplicate"},
        "correct_class": {"correct-to_class": "question", "correct-reason": "asks how"},
        "author_flags": {"flags-flags": ["customer"], "flags-reason": "has an account"},
    }.get(route, {})


def _request(client, route: str, pk: int, colleague=None):
    url = reverse(f"incidents:{route}", args=[pk])
    if route in GET_ROUTES:
        return client.get(url, headers={"HX-Request": "true"} if route == "presence" else {})
    return client.post(url, _data(route, colleague))


def _served(response, route: str, pk: int) -> bool:
    if route in GET_ROUTES:
        return response.status_code == 200
    return response.status_code == 302 and response.url == reverse("incidents:detail", args=[pk])


# --- who may open and act -------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitor_is_sent_to_login(client, case, route):
    response = _request(client, route, case.pk)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("route", ROUTES)
def test_manager_of_the_team_is_served(client, care, case, route):
    client.force_login(manager("cm", of=care))
    response = _request(client, route, case.pk, colleague=manager("colleague", of=care))
    assert _served(response, route, case.pk)


@pytest.mark.parametrize("route", ROUTES)
def test_manager_is_served_their_own_incident_of_another_team(client, route):
    cm = manager("cm", of=team("Care"))
    own = incident(state=IncidentState.ASSIGNED, owner=cm, of=team("Sales"))
    client.force_login(cm)
    response = _request(client, route, own.pk, colleague=manager("colleague"))
    assert _served(response, route, own.pk)


@pytest.mark.parametrize("route", ROUTES)
def test_manager_of_another_team_is_refused(client, case, route):
    client.force_login(manager("outsider", of=team("Sales")))
    assert _request(client, route, case.pk).status_code == 403


@pytest.mark.parametrize("route", ROUTES)
def test_supervisor_is_served(client, supervisor, care, case, route):
    client.force_login(supervisor)
    response = _request(client, route, case.pk, colleague=manager("colleague", of=care))
    assert _served(response, route, case.pk)


@pytest.mark.parametrize(
    ("role", "route"),
    # The executive and the admin read the page itself, never act (issue 12;
    # tests/board/test_board_access.py).
    [
        (role, route)
        for role in ("administrator", "executive")
        for route in ROUTES
        if route != "detail"
    ],
)
def test_executive_and_admin_are_refused(client, request, case, route, role):
    client.force_login(request.getfixturevalue(role))
    assert _request(client, route, case.pk).status_code == 403


def test_a_missing_incident_is_not_found(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("incidents:detail", args=[999999])).status_code == 404


def test_presence_outside_htmx_goes_to_the_page(client, supervisor, case):
    client.force_login(supervisor)
    response = client.get(reverse("incidents:presence", args=[case.pk]))
    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[case.pk])


# --- what the page shows --------------------------------------------------------------------


def test_thread_shows_the_original_first_then_attached_mentions_and_replies_in_time_order(
    client, supervisor
):
    case = incident(at=NOW)
    original = case.first_mention
    later = scored_mention(by=case.author, text="second, attached", published_at=NOW + timedelta(2))
    IncidentMention.objects.create(incident=case, mention=later, severity="high", attached_at=NOW)
    # A reply published before the attached mention, kept outside the incident (praise).
    reply = scored_mention(
        text="a reply from someone else",
        published_at=NOW + timedelta(1),
        reply_to=original,
        triage_class="praise",
        severity="low",
    )
    client.force_login(supervisor)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    thread = html[html.index('id="thread-title"') : html.index('id="topic-title"')]
    positions = [thread.index(text) for text in (original.text, reply.text, later.text)]
    assert positions == sorted(positions)
    assert "original mention" in thread


def test_mention_text_and_author_names_are_escaped_and_unsafe_links_not_linked(client, supervisor):
    case = incident()
    mention = case.first_mention
    mention.text = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    mention.url = "javascript:alert(3)"
    mention.save()
    Author.objects.filter(pk=case.author_id).update(
        display_name='<svg onload="alert(4)">', url="javascript:alert(5)"
    )
    client.force_login(supervisor)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    assert "javascript:alert" not in html


def test_author_profile_shows_reach_history_and_other_open_incidents(client, supervisor):
    writer = author("frequent", followers=12000)
    case = incident()
    case.author = writer
    case.save()
    other_open = incident(state=IncidentState.ASSIGNED)
    other_open.author = writer
    other_open.save()
    closed = incident(state=IncidentState.CLOSED)
    closed.author = writer
    closed.save()
    scored_mention(by=writer)
    client.force_login(supervisor)
    response = client.get(reverse("incidents:detail", args=[case.pk]))
    history = response.context["history"]
    assert history.mentions == 1
    assert history.past_incidents == 1
    assert history.other_open == [other_open]
    html = response.content.decode()
    assert "12000 followers" in html
    assert reverse("incidents:detail", args=[other_open.pk]) in html


def test_related_mentions_on_the_topic_and_the_first_mention_of_the_topic(client, supervisor):
    case = incident()
    case.topic = "billing"
    case.save()
    first = scored_mention(text="where billing began", published_at=NOW - timedelta(days=3))
    recent = [
        scored_mention(text=f"billing {n}", published_at=NOW - timedelta(minutes=n))
        for n in range(12)
    ]
    for mention in [first, *recent, case.first_mention]:
        MentionTopic.objects.create(
            mention=mention, topic="billing", published_at=mention.published_at
        )
    client.force_login(supervisor)
    response = client.get(reverse("incidents:detail", args=[case.pk]))
    assert response.context["first_on_topic"] == first
    assert response.context["related"] == recent[:10]  # newest first, outside the thread
    assert "where billing began" in response.content.decode()


def test_protocol_recommended_action_and_escalation_contacts_of_matched_groups(client, supervisor):
    case = incident(severity="high")
    case.triage_class = "complaint_company_fault"
    case.opened_score = {**case.opened_score, "matched_groups": ["legal_threat"]}
    case.save()
    client.force_login(supervisor)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "Own it: apologise quickly" in html
    assert "legal@brisa.example" in html  # the legal_threat group's contact
    assert "safety@brisa.example" not in html  # a group it did not match


def test_score_explanation_is_the_score_the_incident_opened_on(client, supervisor):
    case = incident()
    case.opened_score = {
        "value": 61,
        "severity": "high",
        "class": "complaint_company_fault",
        "signals": [{"name": "base", "kind": "base", "contribution": 61, "params": {}}],
    }
    case.save()
    client.force_login(supervisor)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "Why this score" in html
    assert "61 · High" in html
    assert "base score" in html


def test_page_queries_do_not_grow_with_the_thread(client, supervisor):
    case = incident()
    client.force_login(supervisor)
    url = reverse("incidents:detail", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for n in range(15):
        extra = scored_mention(by=case.author, published_at=NOW + timedelta(minutes=n))
        IncidentMention.objects.create(
            incident=case, mention=extra, severity="high", attached_at=NOW
        )
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)


# --- acting from the page -------------------------------------------------------------------


def test_manager_takes_an_unowned_incident_of_their_team(client, care, case):
    cm = manager("cm", of=care)
    client.force_login(cm)
    response = client.post(reverse("incidents:take", args=[case.pk]), follow=True)
    case.refresh_from_db()
    assert case.owner == cm
    assert case.state == IncidentState.ASSIGNED
    assert AuditEvent.objects.filter(verb="incident.take", actor=cm).count() == 1
    assert "is yours" in response.content.decode()


def test_only_the_owner_is_offered_actions_others_ask_for_a_hand_over(client, care):
    owner, colleague = manager("owner", of=care), manager("colleague", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(colleague)
    response = client.get(reverse("incidents:detail", args=[case.pk]))
    assert response.context["actions"] == {"ask_hand_over", "set_author_flags"}
    html = response.content.decode()
    assert "Ask owner for a hand-over" in html
    assert reverse("incidents:start", args=[case.pk]) not in html


def test_a_colleague_cannot_start_someone_elses_incident(client, care):
    owner, colleague = manager("owner", of=care), manager("colleague", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(colleague)
    assert client.post(reverse("incidents:start", args=[case.pk])).status_code == 403
    case.refresh_from_db()
    assert case.state == IncidentState.ASSIGNED


def test_the_owner_is_offered_the_moves_the_state_allows(client, care):
    owner = manager("owner", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(owner)
    actions = client.get(reverse("incidents:detail", args=[case.pk])).context["actions"]
    assert actions == {
        "hand_over",
        "start",
        "escalate",
        "close",
        "correct_class",
        "set_author_flags",
    }


def test_a_refused_move_is_explained_on_the_page(client, care):
    owner = manager("owner", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(owner)
    response = client.post(
        reverse("incidents:close", args=[case.pk]), {"close-reason": ""}, follow=True
    )
    assert "say why it is closed" in response.content.decode()
    case.refresh_from_db()
    assert case.state == IncidentState.ASSIGNED


def test_correcting_the_class_with_a_reason_keeps_the_correction(client, care):
    owner = manager("owner", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(owner)
    response = client.post(
        reverse("incidents:correct_class", args=[case.pk]),
        {"correct-to_class": "question", "correct-reason": "They ask how to get a refund"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.triage_class == "question"
    correction = TriageCorrection.objects.get(incident=case)
    assert (correction.from_class, correction.to_class) == ("complaint_company_fault", "question")
    assert correction.by == owner
    assert "They ask how to get a refund" in response.content.decode()


def test_correcting_the_class_without_a_reason_changes_nothing(client, care):
    owner = manager("owner", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=owner, of=care)
    client.force_login(owner)
    response = client.post(
        reverse("incidents:correct_class", args=[case.pk]),
        {"correct-to_class": "question", "correct-reason": "   "},
    )
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.triage_class == "complaint_company_fault"
    assert not TriageCorrection.objects.exists()


def test_a_manager_sets_author_flags_with_a_reason_and_it_is_audited(client, care, case):
    cm = manager("cm", of=care)
    client.force_login(cm)
    client.post(
        reverse("incidents:author_flags", args=[case.pk]),
        {"flags-flags": ["influencer", "customer"], "flags-reason": "80k followers, client"},
    )
    case.author.refresh_from_db()
    assert case.author.flags == ["customer", "influencer"]
    event = AuditEvent.objects.get(verb="author.flags")
    assert event.actor == cm
    assert event.after == {"flags": ["customer", "influencer"], "reason": "80k followers, client"}


def test_flags_outside_the_protocols_list_are_refused(client, care, case):
    client.force_login(manager("cm", of=care))
    response = client.post(
        reverse("incidents:author_flags", args=[case.pk]),
        {"flags-flags": ["vip"], "flags-reason": "because"},
    )
    assert response.status_code == 400
    case.author.refresh_from_db()
    assert case.author.flags == []
    assert not AuditEvent.objects.filter(verb="author.flags").exists()


def test_the_first_mention_of_the_topic_is_not_repeated_when_the_incident_started_it(
    client, supervisor
):
    case = incident()
    case.topic = "billing"
    case.save()
    mention = case.first_mention
    MentionTopic.objects.create(mention=mention, topic="billing", published_at=mention.published_at)
    client.force_login(supervisor)
    response = client.get(reverse("incidents:detail", args=[case.pk]))
    assert response.context["first_on_topic"] is None
    assert response.content.decode().count(mention.text) == 1


# --- any input at the page's form boundary: a clean refusal or a stored value, never an error --

_typed = st.text(max_size=300) | st.builds(
    lambda head, tail: f"{head}\ud800{tail}", st.text(max_size=40), st.text(max_size=40)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(to_class=_typed, reason=_typed)
@example(to_class="question", reason="asks how\ud800")
def test_any_class_correction_is_refused_cleanly_or_stored(to_class, reason):
    owner = manager("prop-owner")
    case = incident(state=IncidentState.ASSIGNED, owner=owner)
    form = CorrectClassForm(
        {"correct-to_class": to_class, "correct-reason": reason}, prefix="correct"
    )
    if not form.is_valid():
        return
    try:
        services.correct_triage_class(actor=owner, incident=case, now=NOW, **form.cleaned_data)
    except InvalidTransition:
        return
    stored = TriageCorrection.objects.get(incident=case)
    assert stored.reason == form.cleaned_data["reason"].strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flags=st.lists(_typed, max_size=6), reason=_typed)
@example(flags=["customer", "customer"], reason="client\ud800")
def test_any_author_flags_are_refused_cleanly_or_stored(flags, reason):
    cm = manager("prop-cm")
    case = incident()
    form = AuthorFlagsForm(
        MultiValueDict({"flags-flags": flags, "flags-reason": [reason]}), prefix="flags"
    )
    if not form.is_valid():
        return
    set_author_flags(actor=cm, author=case.author, **form.cleaned_data)
    case.author.refresh_from_db()
    assert case.author.flags == sorted(set(form.cleaned_data["flags"]))
