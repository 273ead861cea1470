"""Every URL of the take-private and compensation slice, per role: anonymous (to the login),
community manager, supervisor, executive, admin, and a manager of another team on a team's
incident; then what the pages and the incident panel show (and keep from whom)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.replies import compensation as compensations
from crisis.replies import private
from crisis.replies.models import (
    Budget,
    Compensation,
    CompensationState,
    FollowUp,
    FollowUpState,
    Reply,
    ReplyPurpose,
    RetentionSettings,
)
from crisis.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import incident, manager, team

pytestmark = pytest.mark.django_db

EMAIL = "ana.garcia@example.net"


@pytest.fixture
def care(db):
    return team("Care")


@pytest.fixture
def cm(care):
    return manager("cm-urls", of=care)


@pytest.fixture
def case(care, cm):
    return incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)


@pytest.fixture
def follow_up(case, cm):
    return FollowUp.objects.create(
        incident=case,
        channel="email",
        owner=cm,
        due_at=timezone.now() + timedelta(hours=4),
        created_by=cm,
        created_at=timezone.now(),
    )


@pytest.fixture
def offered(case, cm):
    return compensations.offer_compensation(
        actor=cm, incident=case, kind="refund", amount="10.00", currency="EUR", now=timezone.now()
    )


@pytest.fixture
def waiting(case, cm, offered):
    # No budget for today: granting waits for a supervisor.
    return compensations.grant_compensation(actor=cm, compensation=offered, now=timezone.now())


@pytest.fixture
def budget(supervisor):
    today = timezone.localdate()
    return compensations.create_budget(
        actor=supervisor,
        name="This month",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=27),
        amount=Decimal("100.00"),
        currency="EUR",
        now=timezone.now(),
    )


def _login(client, user):
    client.force_login(user)
    return user


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def _served(response) -> bool:
    return response.status_code in (200, 302) and not _is_login_redirect(response)


# --- anonymous -------------------------------------------------------------------------------


def _all_urls(case, follow_up, offered, budget) -> list[str]:
    return [
        reverse("replies:take_private", args=[case.pk]),
        reverse("replies:follow_ups"),
        reverse("replies:complete_follow_up", args=[follow_up.pk]),
        reverse("replies:retention"),
        reverse("replies:offer_compensation", args=[case.pk]),
        reverse("replies:grant_compensation", args=[offered.pk]),
        reverse("replies:approve_compensation", args=[offered.pk]),
        reverse("replies:decline_compensation", args=[offered.pk]),
        reverse("replies:withdraw_compensation", args=[offered.pk]),
        reverse("replies:budgets"),
        reverse("replies:budget_detail", args=[budget.pk]),
    ]


def test_anonymous_visitor_is_sent_to_login_everywhere(client, case, follow_up, offered, budget):
    for url in _all_urls(case, follow_up, offered, budget):
        assert _is_login_redirect(client.get(url)), url
        assert _is_login_redirect(client.post(url, {})), url
    assert not FollowUp.objects.exclude(pk=follow_up.pk).exists()


@pytest.mark.parametrize("role", ["executive", "administrator"])
def test_executive_and_admin_work_no_incident(
    client, request, role, case, follow_up, offered, budget
):
    _login(client, request.getfixturevalue(role))
    read_only = {reverse("replies:follow_ups"), reverse("replies:budget_detail", args=[budget.pk])}
    for url in _all_urls(case, follow_up, offered, budget):
        if url == reverse("replies:retention") and role == "administrator":
            continue
        assert client.get(url).status_code == 403, url
        if url not in read_only:
            assert client.post(url, {}).status_code == 403, url
    assert Compensation.objects.get().state == CompensationState.OFFERED


# --- take private ----------------------------------------------------------------------------


def _take_data(**overrides) -> dict:
    data = {
        "private-channel": "email",
        "private-email": EMAIL,
        "private-phone": "",
        "private-note": "double charge",
        "private-due_at": "",
        "private-owner": "",
    }
    data.update(overrides)
    return data


def test_manager_takes_their_incident_private(client, cm, case):
    _login(client, cm)
    url = reverse("replies:take_private", args=[case.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, _take_data())
    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[case.pk])
    follow_up = FollowUp.objects.get(incident=case)
    assert follow_up.owner_id == cm.pk and follow_up.contact.email == EMAIL
    assert Reply.objects.filter(incident=case, purpose=ReplyPurpose.ACKNOWLEDGEMENT).exists()


def test_take_private_over_htmx_reloads_the_incident_page(client, cm, case):
    _login(client, cm)
    url = reverse("replies:take_private", args=[case.pk])
    response = client.post(url, _take_data(), headers={"HX-Request": "true"})
    # The acknowledgement shows in the reply panel and the message on the page: htmx reloads it.
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse("incidents:detail", args=[case.pk])
    html = client.get(response.headers["HX-Redirect"]).content.decode()
    assert "is being taken private" in html
    assert EMAIL in html  # the owner sees the address on the panel
    assert "Complete the follow-up" in html


def test_an_invalid_take_private_form_over_htmx_answers_with_the_panel(client, cm, case):
    _login(client, cm)
    response = client.post(
        reverse("replies:take_private", args=[case.pk]),
        _take_data(**{"private-email": "nope"}),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="private-panel"' in html and "<html" not in html
    assert "Check the form below." in html
    assert not FollowUp.objects.exists()


def test_supervisor_takes_any_incident_private(client, supervisor, case):
    _login(client, supervisor)
    response = client.post(reverse("replies:take_private", args=[case.pk]), _take_data())
    assert response.status_code == 302
    assert FollowUp.objects.get(incident=case).owner_id == supervisor.pk


def test_manager_of_another_team_cannot_take_it_private(client, case):
    _login(client, manager("outsider", of=team("Sales")))
    url = reverse("replies:take_private", args=[case.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _take_data()).status_code == 403
    assert not FollowUp.objects.exists()


def test_a_teammate_who_does_not_own_the_incident_cannot_take_it_private(client, care, case):
    _login(client, manager("teammate", of=care))
    assert client.post(
        reverse("replies:take_private", args=[case.pk]), _take_data()
    ).status_code == (403)


def test_an_invalid_take_private_form_is_shown_again_with_errors(client, cm, case):
    _login(client, cm)
    url = reverse("replies:take_private", args=[case.pk])
    response = client.post(
        url, _take_data(**{"private-phone": "call me", "private-channel": "phone"})
    )
    assert response.status_code == 400
    assert "6 to 20 digits" in response.content.decode()
    response = client.post(url, _take_data(**{"private-email": ""}))
    assert response.status_code == 400
    assert not FollowUp.objects.exists()


def test_a_refused_take_private_is_a_message_not_an_error(client, cm, case, follow_up):
    _login(client, cm)
    response = client.post(
        reverse("replies:take_private", args=[case.pk]), _take_data(), follow=True
    )
    assert response.status_code == 200
    assert "already has an open private follow-up" in response.content.decode()


def test_a_missing_incident_is_not_found(client, supervisor):
    _login(client, supervisor)
    assert client.get(reverse("replies:take_private", args=[999999])).status_code == 404
    assert client.get(reverse("replies:offer_compensation", args=[999999])).status_code == 404
    assert client.get(reverse("replies:complete_follow_up", args=[999999])).status_code == 404
    assert client.get(reverse("replies:grant_compensation", args=[999999])).status_code == 404
    assert client.get(reverse("replies:budget_detail", args=[999999])).status_code == 404


# --- completing ------------------------------------------------------------------------------


def test_owner_completes_and_resolves(client, cm, case, follow_up):
    _login(client, cm)
    url = reverse("replies:complete_follow_up", args=[follow_up.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"complete-outcome": "Refunded", "complete-resolve_incident": "on"}, follow=True
    )
    assert response.status_code == 200
    follow_up.refresh_from_db()
    case.refresh_from_db()
    assert follow_up.state == FollowUpState.DONE
    assert case.state == IncidentState.RESOLVED
    assert "resolved" in response.content.decode()


def test_completing_without_an_outcome_is_refused(client, cm, follow_up):
    _login(client, cm)
    response = client.post(
        reverse("replies:complete_follow_up", args=[follow_up.pk]), {"complete-outcome": " "}
    )
    assert response.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.OPEN


def test_supervisor_completes_any_follow_up(client, supervisor, follow_up):
    _login(client, supervisor)
    response = client.post(
        reverse("replies:complete_follow_up", args=[follow_up.pk]),
        {"complete-outcome": "done"},
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.DONE


def test_manager_of_another_team_cannot_complete(client, follow_up):
    _login(client, manager("outsider", of=team("Sales")))
    url = reverse("replies:complete_follow_up", args=[follow_up.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"complete-outcome": "x"}).status_code == 403


# --- my follow-ups -----------------------------------------------------------------------


def test_my_follow_ups_lists_mine_overdue_first_without_contact_details(client, cm, care):
    from crisis.replies.models import ContactDetails

    now = timezone.now()
    later = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
    late = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
    contact = ContactDetails.objects.create(email=EMAIL, created_at=now)
    for case, due, details in (
        (later, now + timedelta(hours=5), contact),
        (late, now - timedelta(hours=1), None),
    ):
        FollowUp.objects.create(
            incident=case,
            channel="email",
            contact=details,
            owner=cm,
            due_at=due,
            created_by=cm,
            created_at=now,
        )
    someone_else = manager("other", of=care)
    theirs = incident(state=IncidentState.IN_PROGRESS, owner=someone_else, of=care)
    FollowUp.objects.create(
        incident=theirs, channel="dm", owner=someone_else, due_at=now, created_by=cm, created_at=now
    )
    _login(client, cm)
    html = client.get(reverse("replies:follow_ups")).content.decode()
    assert html.index(f"#{late.pk}<") < html.index(f"#{later.pk}<")
    assert f"#{theirs.pk}<" not in html
    assert "overdue by" in html
    assert EMAIL not in html


def test_my_follow_ups_is_for_those_who_work_incidents(client, supervisor, executive):
    _login(client, supervisor)
    assert client.get(reverse("replies:follow_ups")).status_code == 200
    _login(client, executive)
    assert client.get(reverse("replies:follow_ups")).status_code == 403


def test_my_follow_ups_paginates(client, cm, care):
    now = timezone.now()
    for _number in range(27):
        case = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
        FollowUp.objects.create(
            incident=case, channel="dm", owner=cm, due_at=now, created_by=cm, created_at=now
        )
    _login(client, cm)
    first = client.get(reverse("replies:follow_ups")).content.decode()
    assert "Page 1 of 2" in first
    second = client.get(reverse("replies:follow_ups") + "?page=2").content.decode()
    assert second.count("<tr") == 3  # header + two rows


def test_an_empty_list_says_so(client, cm):
    _login(client, cm)
    assert "No open follow-up" in client.get(reverse("replies:follow_ups")).content.decode()


# --- who sees contact details on the incident page -------------------------------------------


def test_contact_details_on_the_panel_only_for_owner_incident_owner_and_supervisors(
    client, cm, care, case, supervisor
):
    colleague = manager("fu-owner", of=care)
    teammate = manager("teammate", of=care)
    private.take_private(
        actor=cm, incident=case, channel="email", owner=colleague, email=EMAIL, now=timezone.now()
    )
    page = reverse("incidents:detail", args=[case.pk])
    for viewer, sees in ((cm, True), (colleague, True), (supervisor, True), (teammate, False)):
        _login(client, viewer)
        response = client.get(page)
        if response.status_code == 403:  # the follow-up's owner may not see the incident
            continue
        assert (EMAIL in response.content.decode()) is sees, viewer.username


# --- retention (admins) ----------------------------------------------------------------------


def test_admin_sets_the_retention_period(client, administrator):
    _login(client, administrator)
    url = reverse("replies:retention")
    assert "90" in client.get(url).content.decode()
    response = client.post(url, {"contact_retention_days": "30"})
    assert response.status_code == 302
    assert RetentionSettings.objects.get().contact_retention_days == 30
    assert AuditEvent.objects.filter(verb="retention.update").count() == 1
    assert client.post(url, {"contact_retention_days": "0"}).status_code == 400


@pytest.mark.parametrize("role", ["manager", "supervisor", "executive"])
def test_only_admins_set_the_retention_period(client, request, role):
    _login(client, request.getfixturevalue(role))
    url = reverse("replies:retention")
    assert client.get(url).status_code == 403
    assert client.post(url, {"contact_retention_days": "1"}).status_code == 403


def test_retention_is_in_the_django_admin_for_admins(client, administrator):
    _login(client, administrator)
    private.retention_settings()
    row = RetentionSettings.objects.get()
    url = reverse("admin:replies_retentionsettings_change", args=[row.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"contact_retention_days": "45"})
    assert response.status_code == 302
    assert RetentionSettings.objects.get().contact_retention_days == 45
    assert AuditEvent.objects.filter(verb="retention.update").count() == 1


# --- compensation on the incident ------------------------------------------------------------


def _offer_data(**overrides) -> dict:
    data = {
        "offer-kind": "credit",
        "offer-amount": "15.00",
        "offer-currency": "eur",
        "offer-note": "",
    }
    data.update(overrides)
    return data


def test_manager_offers_and_grants_within_the_budget(client, cm, case, budget):
    _login(client, cm)
    url = reverse("replies:offer_compensation", args=[case.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, _offer_data()).status_code == 302
    offered = Compensation.objects.get()
    assert (offered.amount, offered.currency) == (Decimal("15.00"), "EUR")
    grant = reverse("replies:grant_compensation", args=[offered.pk])
    assert client.get(grant).status_code == 200  # the confirmation page
    response = client.post(grant, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Compensation granted" in response.content.decode()
    offered.refresh_from_db()
    assert offered.state == CompensationState.GRANTED and offered.budget_id == budget.pk


def test_an_invalid_offer_is_shown_again(client, cm, case):
    _login(client, cm)
    url = reverse("replies:offer_compensation", args=[case.pk])
    assert client.post(url, _offer_data(**{"offer-amount": "0"})).status_code == 400
    assert client.post(url, _offer_data(**{"offer-currency": "EURO"})).status_code == 400
    response = client.post(
        url, _offer_data(**{"offer-amount": "1.234"}), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Check the form" in response.content.decode()
    assert not Compensation.objects.exists()


def test_supervisor_offers_on_any_incident(client, supervisor, case):
    _login(client, supervisor)
    url = reverse("replies:offer_compensation", args=[case.pk])
    assert client.post(url, _offer_data()).status_code == 302
    assert Compensation.objects.get().offered_by_id == supervisor.pk


def test_manager_of_another_team_cannot_offer_grant_or_withdraw(client, case, offered):
    _login(client, manager("outsider", of=team("Sales")))
    for url in (
        reverse("replies:offer_compensation", args=[case.pk]),
        reverse("replies:grant_compensation", args=[offered.pk]),
        reverse("replies:withdraw_compensation", args=[offered.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, _offer_data()).status_code == 403, url
    offered.refresh_from_db()
    assert offered.state == CompensationState.OFFERED
    assert Compensation.objects.count() == 1


def test_manager_withdraws(client, cm, offered):
    _login(client, cm)
    response = client.post(reverse("replies:withdraw_compensation", args=[offered.pk]))
    assert response.status_code == 302
    offered.refresh_from_db()
    assert offered.state == CompensationState.WITHDRAWN


def test_manager_cannot_approve_or_decline(client, cm, waiting):
    _login(client, cm)
    for name in ("approve_compensation", "decline_compensation"):
        url = reverse(f"replies:{name}", args=[waiting.pk])
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == CompensationState.AWAITING_APPROVAL


def test_supervisor_approves_one_offered_by_someone_else(client, supervisor, waiting):
    _login(client, supervisor)
    url = reverse("replies:approve_compensation", args=[waiting.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == CompensationState.GRANTED


def test_supervisor_declines_with_a_comment(client, supervisor, waiting):
    _login(client, supervisor)
    url = reverse("replies:decline_compensation", args=[waiting.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"comment": "not justified"}).status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == CompensationState.DECLINED


def test_a_supervisor_cannot_approve_their_own_offer(client, supervisor, case):
    offered = compensations.offer_compensation(
        actor=supervisor, incident=case, kind="gift", amount="5", currency="EUR", now=timezone.now()
    )
    compensations.grant_compensation(actor=supervisor, compensation=offered, now=timezone.now())
    _login(client, supervisor)
    url = reverse("replies:approve_compensation", args=[offered.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    offered.refresh_from_db()
    assert offered.state == CompensationState.AWAITING_APPROVAL


def test_the_panel_offers_approval_to_another_supervisor_only(client, supervisor, case, waiting):
    _login(client, supervisor)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert reverse("replies:approve_compensation", args=[waiting.pk]) in html
    boss2 = UserFactory(username="boss2", role=Role.SUPERVISOR)
    mine = compensations.offer_compensation(
        actor=boss2, incident=case, kind="gift", amount="5", currency="EUR", now=timezone.now()
    )
    compensations.grant_compensation(actor=boss2, compensation=mine, now=timezone.now())
    _login(client, boss2)
    html = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert reverse("replies:approve_compensation", args=[mine.pk]) not in html
    assert reverse("replies:approve_compensation", args=[waiting.pk]) in html


# --- budgets ---------------------------------------------------------------------------------


def _budget_data(**overrides) -> dict:
    data = {
        "name": "Q2",
        "starts_on": "2026-04-01",
        "ends_on": "2026-06-30",
        "amount": "1500.00",
        "currency": "EUR",
    }
    data.update(overrides)
    return data


def test_supervisor_sets_and_reads_budgets(client, supervisor, cm, case, budget):
    compensations.grant_compensation(
        actor=cm,
        compensation=compensations.offer_compensation(
            actor=cm, incident=case, kind="refund", amount="30", currency="EUR", now=timezone.now()
        ),
        now=timezone.now(),
    )
    _login(client, supervisor)
    url = reverse("replies:budgets")
    html = client.get(url).content.decode()
    assert "This month" in html and "30.00" in html and "70.00" in html
    response = client.post(url, _budget_data())
    assert response.status_code == 302
    assert Budget.objects.filter(name="Q2", amount=Decimal("1500.00")).exists()
    assert client.post(url, _budget_data(ends_on="2026-03-01")).status_code == 400
    detail = client.get(reverse("replies:budget_detail", args=[budget.pk])).content.decode()
    assert f"#{case.pk}<" in detail


def test_budgets_page_lists_compensations_waiting_for_approval(client, supervisor, waiting):
    _login(client, supervisor)
    html = client.get(reverse("replies:budgets")).content.decode()
    assert reverse("replies:approve_compensation", args=[waiting.pk]) in html


@pytest.mark.parametrize("role", ["manager", "executive", "administrator"])
def test_only_supervisors_see_and_set_budgets(client, request, role, budget):
    _login(client, request.getfixturevalue(role))
    assert client.get(reverse("replies:budgets")).status_code == 403
    assert client.post(reverse("replies:budgets"), _budget_data()).status_code == 403
    assert client.get(reverse("replies:budget_detail", args=[budget.pk])).status_code == 403
    assert Budget.objects.count() == 1


def test_empty_budgets_page_says_so(client, supervisor):
    _login(client, supervisor)
    html = client.get(reverse("replies:budgets")).content.decode()
    assert "No budget set yet" in html and "No compensation is waiting" in html


def test_budget_detail_paginates_the_incidents(client, supervisor, cm, care, budget):
    for _number in range(27):
        case = incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)
        Compensation.objects.create(
            incident=case,
            budget=budget,
            kind="gift",
            amount=Decimal("1.00"),
            currency="EUR",
            state=CompensationState.GRANTED,
            offered_by=cm,
            offered_at=timezone.now(),
        )
    _login(client, supervisor)
    html = client.get(reverse("replies:budget_detail", args=[budget.pk])).content.decode()
    assert "Page 1 of 2" in html


# --- navigation ------------------------------------------------------------------------------


def test_navigation_links(client, cm, supervisor, administrator):
    _login(client, cm)
    html = client.get(reverse("replies:follow_ups")).content.decode()
    assert f'href="{reverse("replies:follow_ups")}"' in html
    assert f'href="{reverse("replies:budgets")}"' not in html
    _login(client, supervisor)
    html = client.get(reverse("replies:follow_ups")).content.decode()
    assert f'href="{reverse("replies:budgets")}"' in html
    _login(client, administrator)
    html = client.get(reverse("replies:retention")).content.decode()
    assert f'href="{reverse("replies:retention")}"' in html


def test_budgets_dates_outside_a_sane_window_are_refused(client, supervisor):
    _login(client, supervisor)
    response = client.post(reverse("replies:budgets"), _budget_data(starts_on="1900-01-01"))
    assert response.status_code == 400
    assert not Budget.objects.filter(starts_on=date(1900, 1, 1)).exists()


def test_the_panel_costs_the_same_queries_for_one_or_many_compensations(client, cm, case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def offer() -> None:
        compensations.offer_compensation(
            actor=cm, incident=case, kind="gift", amount="1", currency="EUR", now=timezone.now()
        )

    _login(client, cm)
    url = reverse("incidents:detail", args=[case.pk])
    offer()
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _number in range(12):
        offer()
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count("data-compensation=") == 13
    assert len(many) == len(one)
