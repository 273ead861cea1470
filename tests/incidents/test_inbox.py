"""The inbox: queues and their counts, filters, sorts, pages, live refresh, bulk actions, empty
states and escaping, for each role."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.incidents.models import CloseReason, Incident, IncidentState
from crisis.models import AuditEvent
from crisis.roles import Role
from monitoring.models import Mention
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, scored_mention, team
from tests.incidents.factories import manager as make_manager

pytestmark = pytest.mark.django_db

INBOX = reverse("inbox")
ACT = reverse("incidents:inbox_act")


@pytest.fixture
def frozen(time_machine):
    """The clock at the factories' NOW (incidents open then, due an hour later)."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def care():
    return team("Customer care")


@pytest.fixture
def ana(care):
    return make_manager("ana", of=care)


def rows(response) -> list[int]:
    """The incident ids listed, in order."""
    return [int(pk) for pk in re.findall(r'data-incident="(\d+)"', response.content.decode())]


def get(client, user, **params):
    client.force_login(user)
    return client.get(INBOX, params)


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status"),
    # The executive and the admin read the list read-only (issue 12: the board's numbers
    # link here).
    [("manager", 200), ("supervisor", 200), ("executive", 200), ("administrator", 200)],
)
def test_inbox_answers_each_role(client, request, fixture, status):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get(INBOX).status_code == status


def test_inbox_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("manager", 302), ("supervisor", 302), ("executive", 403), ("administrator", 403)],
)
def test_inbox_action_answers_each_role(client, request, fixture, status):
    case = incident()
    client.force_login(request.getfixturevalue(fixture))
    response = client.post(ACT, {"action": "take", "incidents": [case.pk]})
    assert response.status_code == status
    case.refresh_from_db()
    assert (case.owner is not None) == (status == 302)


def test_inbox_action_sends_anonymous_visitors_to_sign_in(client):
    case = incident()
    response = client.post(ACT, {"action": "take", "incidents": [case.pk]})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert Incident.objects.get(pk=case.pk).owner is None


def test_inbox_action_refuses_get(client, manager):
    client.force_login(manager)
    assert client.get(ACT).status_code == 405


# --- queues ----------------------------------------------------------------------------------


def test_mine_queue_holds_only_the_viewers_incidents(client, ana, care):
    mine = incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    incident(of=care)
    incident(state=IncidentState.ASSIGNED, owner=make_manager("bea", of=care), of=care)
    assert rows(get(client, ana, queue="mine")) == [mine.pk]


def test_team_queue_holds_the_team_and_teamless_incidents_not_another_teams(client, ana, care):
    ours = incident(of=care)
    teamless = incident(of=None)
    incident(of=team("Sales"))
    assert sorted(rows(get(client, ana, queue="team"))) == sorted([ours.pk, teamless.pk])


def test_unassigned_queue_holds_only_unowned_incidents(client, ana, care):
    free = incident(of=care)
    incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    assert rows(get(client, ana, queue="unassigned")) == [free.pk]


def test_supervisor_team_queue_spans_every_team(client, supervisor, care):
    cases = [incident(of=care), incident(of=team("Sales")), incident(of=None)]
    assert sorted(rows(get(client, supervisor))) == sorted(case.pk for case in cases)


def test_queue_counts_are_shown_per_queue(client, ana, care):
    incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    incident(of=care)
    incident(of=care)
    page = get(client, ana).content.decode()
    assert re.search(r'data-queue-count="mine">1<', page)
    assert re.search(r'data-queue-count="team">3<', page)
    assert re.search(r'data-queue-count="unassigned">2<', page)


def test_closed_and_drill_incidents_stay_out_of_the_inbox(client, ana, care):
    live = incident(of=care)
    incident(state=IncidentState.CLOSED, of=care)
    incident(state=IncidentState.RESOLVED, of=care)
    drill = incident(of=care)
    Incident.objects.filter(pk=drill.pk).update(origin="run:7")
    assert rows(get(client, ana)) == [live.pk]


def test_team_is_the_default_queue(client, ana, care):
    case = incident(of=care)
    page = get(client, ana)
    assert rows(page) == [case.pk]
    assert re.search(r'aria-current="page">Team <', page.content.decode())


# --- filters -----------------------------------------------------------------------------------


def _filtered_pair(care):
    """Two open incidents of the team that differ in every filterable way."""
    wanted = incident(of=care, severity="critical")
    other = incident(of=care, severity="medium")
    Incident.objects.filter(pk=other.pk).update(
        triage_class="question", state=IncidentState.ESCALATED
    )
    Mention.objects.filter(pk=wanted.first_mention_id).update(
        text="El router explotó en mi casa", language="es"
    )
    Mention.objects.filter(pk=other.first_mention_id).update(
        text="Where is my parcel", language="en"
    )
    wanted.author.platform = "mastodon"
    wanted.author.handle = "vecina_furiosa"
    wanted.author.save()
    return wanted, other


@pytest.mark.parametrize(
    "params",
    [
        {"severity": "critical"},
        {"triage": "complaint_company_fault"},
        {"platform": "mastodon"},
        {"language": "es"},
        {"state": "new"},
        {"q": "router explotó"},
        {"q": "VECINA"},
    ],
    ids=lambda params: "-".join(params),
)
def test_each_filter_keeps_only_matching_incidents(client, ana, care, params):
    wanted, _other = _filtered_pair(care)
    assert rows(get(client, ana, **params)) == [wanted.pk]


def test_search_by_incident_number_finds_it(client, ana, care):
    wanted, _other = _filtered_pair(care)
    assert rows(get(client, ana, q=f"#{wanted.pk}")) == [wanted.pk]


def test_search_matches_any_mention_of_the_thread(client, ana, care):
    case = incident(of=care)
    later = scored_mention(by=case.author, text="y además me cortaron la luz")
    case.links.create(mention=later, severity="high", attached_at=NOW)
    incident(of=care)
    assert rows(get(client, ana, q="cortaron la luz")) == [case.pk]


def test_sla_filter_separates_on_time_due_soon_breached_and_answered(client, ana, care, frozen):
    # High severity: due an hour after opening, warned 12 minutes before (80 %).
    on_time = incident(of=care, at=NOW)
    due_soon = incident(of=care, at=NOW - timedelta(minutes=50))
    breached = incident(of=care, at=NOW - timedelta(minutes=61))
    answered = incident(
        state=IncidentState.REPLIED,
        of=care,
        at=NOW - timedelta(minutes=30),
        first_response_at=NOW - timedelta(minutes=1),
    )
    assert rows(get(client, ana, sla="ok")) == [on_time.pk]
    assert rows(get(client, ana, sla="warning")) == [due_soon.pk]
    assert rows(get(client, ana, sla="breached")) == [breached.pk]
    assert rows(get(client, ana, sla="met")) == [answered.pk]


def test_answered_incident_shows_no_countdown(client, ana, care, frozen):
    incident(state=IncidentState.REPLIED, of=care, first_response_at=NOW)
    assert "data-due=" not in get(client, ana).content.decode()


def test_invalid_filter_value_is_ignored_and_reported(client, ana, care):
    case = incident(of=care)
    response = get(client, ana, severity="apocalyptic", size="7")
    assert response.status_code == 200
    assert rows(response) == [case.pk]
    assert 'role="alert"' in response.content.decode()


def test_filters_survive_in_the_refresh_url_and_page_links(client, ana, care):
    for _ in range(26):
        incident(of=care, severity="high")
    page = get(client, ana, severity="high", sort="severity").content.decode()
    refresh = re.search(r'id="inbox-list" hx-get="([^"]+)"', page).group(1)
    assert "severity=high" in refresh and "sort=severity" in refresh
    assert re.search(r'href="\?[^"]*severity=high[^"]*page=2"', page)


# --- sorting -----------------------------------------------------------------------------------


def test_default_sort_is_sla_due_soonest_first(client, ana, care):
    later = incident(of=care, at=NOW)
    sooner = incident(of=care, at=NOW - timedelta(minutes=30))
    undated = incident(of=care, at=NOW - timedelta(minutes=90))
    Incident.objects.filter(pk=undated.pk).update(sla_due_at=None)
    assert rows(get(client, ana)) == [sooner.pk, later.pk, undated.pk]


def test_severity_sort_puts_the_most_severe_first(client, ana, care):
    medium = incident(of=care, severity="medium", at=NOW - timedelta(minutes=30))
    critical = incident(of=care, severity="critical")
    high = incident(of=care, severity="high")
    assert rows(get(client, ana, sort="severity")) == [critical.pk, high.pk, medium.pk]


def test_exposure_sort_puts_the_widest_unanswered_audience_first(client, ana, care, frozen):
    small = incident(of=care, at=NOW - timedelta(minutes=30))  # 1,000 followers x 30 min
    wide = incident(of=care, at=NOW - timedelta(minutes=10))
    Incident.objects.filter(pk=wide.pk).update(reach=50_000)  # 50,000 x 10 min
    answered = incident(of=care, at=NOW - timedelta(minutes=60))
    Incident.objects.filter(pk=answered.pk).update(
        reach=50_000, first_response_at=NOW - timedelta(minutes=59)
    )  # 50,000 x 1 min
    page = get(client, ana, sort="exposure")
    assert rows(page) == [wide.pk, answered.pk, small.pk]
    assert "500,000" in page.content.decode()


# --- pages and queries -------------------------------------------------------------------------


def _many(care, count: int) -> None:
    for index in range(count):
        incident(of=care, at=NOW - timedelta(minutes=index))


def test_pages_hold_25_by_default_and_100_on_request(client, ana, care):
    _many(care, 101)
    assert len(rows(get(client, ana))) == 25
    assert len(rows(get(client, ana, size="100"))) == 100
    assert len(rows(get(client, ana, size="100", page="2"))) == 1


def test_a_page_costs_the_same_queries_for_25_and_100_rows(
    client, ana, care, django_assert_num_queries
):
    _many(care, 100)
    client.force_login(ana)
    client.get(INBOX)  # the session and permission caches warm up as for any later page
    with CaptureQueriesContext(connection) as small:
        assert len(rows(client.get(INBOX, {"size": "25", "sort": "exposure"}))) == 25
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(rows(client.get(INBOX, {"size": "100", "sort": "exposure"}))) == 100


# --- live refresh and countdown ------------------------------------------------------------------


def test_htmx_refresh_renders_only_the_list_with_counts(client, ana, care):
    case = incident(of=care)
    client.force_login(ana)
    response = client.get(INBOX, {"queue": "team"}, headers={"hx-request": "true"})
    body = response.content.decode()
    assert "<html" not in body and 'id="inbox-bulk"' not in body
    assert rows(response) == [case.pk]
    assert 'data-queue-count="team">1<' in body


def test_full_page_polls_the_list_every_ten_seconds(client, ana):
    page = get(client, ana).content.decode()
    assert 'hx-trigger="every 10s"' in page
    assert "js/inbox.js" in page


def test_rows_carry_the_due_time_for_the_live_countdown(client, ana, care, frozen):
    frozen.move_to(NOW + timedelta(minutes=15), tick=False)
    incident(of=care)
    page = get(client, ana).content.decode()
    due = re.search(r'data-due="([^"]+)"', page).group(1)
    assert datetime.fromisoformat(due) == NOW + timedelta(minutes=60)
    assert ">0:45:00</time>" in page


def test_help_dialog_lists_the_inbox_keys(client, ana):
    page = get(client, ana).content.decode()
    dialog = page[page.index('id="shortcuts-help"') :]
    for key in ("j", "k", "Enter", "a", "e", "x"):
        assert f"<kbd>{key}</kbd>" in dialog


# --- actions -----------------------------------------------------------------------------------


def act(client, user, **data):
    client.force_login(user)
    return client.post(ACT, data, follow=True)


def test_take_from_the_inbox_makes_the_manager_owner(client, ana, care):
    case = incident(of=care)
    response = act(client, ana, action="take", incidents=[case.pk])
    case.refresh_from_db()
    assert (case.owner, case.state) == (ana, IncidentState.ASSIGNED)
    assert "You took 1 incident." in response.content.decode()


def test_escalate_from_the_inbox_escalates_and_is_audited(client, ana, care):
    case = incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    act(client, ana, action="escalate", incidents=[case.pk])
    case.refresh_from_db()
    assert case.state == IncidentState.ESCALATED
    assert AuditEvent.objects.filter(verb="incident.escalate", actor=ana).exists()


def test_supervisor_assigns_selected_incidents_to_a_manager(client, supervisor, ana, care):
    cases = [incident(of=care), incident(of=care)]
    response = act(
        client, supervisor, action="assign", to_user=ana.pk, incidents=[c.pk for c in cases]
    )
    assert Incident.objects.filter(owner=ana, state=IncidentState.ASSIGNED).count() == 2
    assert "2 incidents assigned." in response.content.decode()


def test_manager_hands_over_own_incident_by_assigning_it(client, ana, care):
    bea = make_manager("bea", of=care)
    case = incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    act(client, ana, action="assign", to_user=bea.pk, incidents=[case.pk])
    case.refresh_from_db()
    assert case.owner == bea


def test_refused_action_is_shown_and_the_others_still_happen(client, ana, care):
    bea = make_manager("bea", of=care)
    hers = incident(state=IncidentState.ASSIGNED, owner=bea, of=care)
    free = incident(of=care)
    response = act(client, ana, action="take", incidents=[hers.pk, free.pk])
    assert response.status_code == 200
    body = response.content.decode()
    refusal = re.search(r'class="message message-error">([^<]*)<', body).group(1)
    assert f"#{hers.pk}" in refusal and "bea" in refusal
    assert "You took 1 incident." in body
    assert Incident.objects.get(pk=hers.pk).owner == bea
    assert Incident.objects.get(pk=free.pk).owner == ana


def test_close_requires_a_reason(client, ana, care):
    case = incident(state=IncidentState.ASSIGNED, owner=ana, of=care)
    response = act(client, ana, action="close", incidents=[case.pk])
    assert "Say why the incidents are closed." in response.content.decode()
    assert Incident.objects.get(pk=case.pk).state == IncidentState.ASSIGNED


def test_close_with_a_reason_closes_each_selected_incident(client, ana, care):
    cases = [incident(state=IncidentState.ASSIGNED, owner=ana, of=care) for _ in range(2)]
    act(
        client,
        ana,
        action="close",
        reason=CloseReason.DUPLICATE,
        note="same as #1",
        incidents=[c.pk for c in cases],
    )
    closed = Incident.objects.filter(state=IncidentState.CLOSED, close_reason="duplicate")
    assert closed.count() == 2


def test_action_returns_to_the_inbox_with_its_filters(client, ana, care):
    case = incident(of=care)
    client.force_login(ana)
    response = client.post(
        ACT, {"action": "take", "incidents": [case.pk], "back": "queue=mine&severity=high"}
    )
    assert response.status_code == 302
    assert response.url == f"{INBOX}?queue=mine&severity=high"


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example", "queue=<script>"])
def test_action_return_address_cannot_leave_the_inbox(client, ana, care, back):
    case = incident(of=care)
    client.force_login(ana)
    response = client.post(ACT, {"action": "take", "incidents": [case.pk], "back": back})
    assert response.url.startswith(INBOX)
    assert "evil" not in response.url and "<" not in response.url


@pytest.mark.parametrize("ids", [["999999"], ["abc"], []])
def test_unknown_or_missing_incident_is_refused_without_an_error_page(client, ana, ids):
    response = act(client, ana, action="take", incidents=ids)
    assert response.status_code == 200
    assert 'class="message message-error"' in response.content.decode()


# --- empty states ------------------------------------------------------------------------------


def test_empty_inbox_says_how_many_mentions_monitoring_found_today(client, ana, frozen):
    for _ in range(3):
        scored_mention(severity="low", triage_class="praise")
    Mention.objects.update(ingested_at=NOW)
    Mention.objects.filter(pk=Mention.objects.first().pk).update(
        ingested_at=NOW - timedelta(days=1)
    )
    frozen.move_to(NOW + timedelta(hours=1), tick=False)
    body = get(client, ana).content.decode()
    assert "Monitoring found 2 mentions today; none needs a reply." in body
    assert "Nothing to triage right now" in body


def test_empty_mine_queue_points_to_the_unassigned_ones(client, ana, care):
    incident(of=care)
    incident(of=care)
    body = get(client, ana, queue="mine").content.decode()
    assert "Nothing is assigned to you. 2 incidents wait in the unassigned queue." in body


def test_no_match_says_the_filters_exclude_everything(client, ana, care):
    incident(of=care, severity="high")
    body = get(client, ana, severity="low").content.decode()
    assert "No open incident in this queue matches these filters." in body


# --- hostile input -----------------------------------------------------------------------------


def test_hostile_mention_and_author_are_escaped_and_links_kept_safe(client, ana, care):
    case = incident(of=care)
    Mention.objects.filter(pk=case.first_mention_id).update(
        text='<script>alert(1)</script><img src=x onerror="alert(2)">',
        url="javascript:alert(3)",
    )
    case.author.display_name = "<svg onload=alert(4)>"
    case.author.save()
    body = get(client, ana).content.decode()
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "<svg onload" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "javascript:" not in body


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["queue", "q", "severity", "triage", "platform", "language", "state"])
        | st.sampled_from(["sla", "sort", "size", "page"]),
        st.text(max_size=300),
        max_size=6,
    )
)
def test_any_query_string_renders_the_inbox(client, params):
    user = UserFactory(username="fuzz", role=Role.COMMUNITY_MANAGER)
    client.force_login(user)
    response = client.get(INBOX, params)
    assert response.status_code == 200
