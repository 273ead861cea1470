"""Drills (issue 13): scenarios, starting, ticking with the scenario clock, closing; a drill's
incidents and notifications reach only its participants; the report in scenario time; the
board's real figures never count a drill."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.drills import report, selectors, services
from crisis.drills.models import Drill, DrillStatus, Scenario, ScenarioKind
from crisis.incidents import routing
from crisis.incidents.models import Incident
from crisis.incidents.selectors import InboxFilters, inbox_incident_ids, inbox_viewer
from crisis.incidents.sla import sla_policy
from crisis.notifications import selectors as notification_selectors
from crisis.notifications import services as notification_services
from crisis.roles import Role
from crisis.rooms.models import Crisis, CrisisStatus
from protocols.models import CrisisSuggestion, Run, RunKind
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import incident, manager

# A scenario of rows a few minutes apart (scenario time), played from wall time START.
FIRST_ROW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HEADER = "id,url,text,published_at,author,author_followers,language,platform\n"


def csv_rows(count: int, *, minutes_apart: int = 5, text: str = "Hola buen servicio") -> str:
    lines = [
        f"m{number},https://example.org/p/{number},{text} {number},"
        f"{(FIRST_ROW + timedelta(minutes=minutes_apart * number)).isoformat()},"
        f"user{number},100,es,bluesky\n"
        for number in range(count)
    ]
    return HEADER + "".join(lines)


def stored_scenario(by, rows: int = 4) -> Scenario:
    return Scenario.objects.create(
        name="Four quiet mentions",
        kind=ScenarioKind.CSV,
        data=csv_rows(rows),
        rows=rows,
        created_by=by,
        created_at=START,
    )


def a_drill(by, *, participants=(), speed: int = 60, rows: int = 4) -> Drill:
    """A drill as start_drill leaves it, without playing anything yet."""
    run = Run.objects.create(
        key=f"drill:test:{Run.objects.count()}", kind=RunKind.DRILL, total=rows
    )
    run.participants.set([by, *participants])
    return Drill.objects.create(
        run=run,
        scenario=stored_scenario(by, rows),
        speed=speed,
        started_by=by,
        started_at=START,
        scenario_start=FIRST_ROW,
    )


def drill_incident(drill: Drill, *, at: datetime = FIRST_ROW, **fields) -> Incident:
    case = incident(at=at, **fields)
    Incident.objects.filter(pk=case.pk).update(origin=drill.run.origin)
    case.refresh_from_db()
    return case


# --- notifications --------------------------------------------------------------------------


def test_drill_notification_reaches_participants_bell_only(supervisor, manager):
    outsider = UserFactory(username="outsider", role=Role.COMMUNITY_MANAGER)
    drill = a_drill(supervisor, participants=[manager])
    notification_services.notify(
        users=[manager, outsider],
        kind="assigned",
        title="Drill incident",
        now=START,
        origin=drill.run.origin,
    )
    assert notification_selectors.unread_count(manager) == 1
    assert notification_selectors.notifications_page(manager, 1).paginator.count == 1
    assert notification_selectors.unread_count(outsider) == 0
    assert notification_selectors.notifications_page(outsider, 1).paginator.count == 0


def test_drill_notification_is_never_emailed_even_to_participants(
    supervisor, manager, django_capture_on_commit_callbacks
):
    drill = a_drill(supervisor, participants=[manager])
    with django_capture_on_commit_callbacks(execute=True):
        [row] = notification_services.notify(
            users=[manager], kind="critical", title="Drill", now=START, origin=drill.run.origin
        )
    assert mail.outbox == []
    assert row.by_email is False


def test_participant_marks_a_drill_notification_read(supervisor, manager):
    drill = a_drill(supervisor, participants=[manager])
    [row] = notification_services.notify(
        users=[manager], kind="assigned", title="Drill", now=START, origin=drill.run.origin
    )
    notification_services.mark_read(user=manager, notification_id=row.pk, now=START)
    assert notification_selectors.unread_count(manager) == 0


# --- routing --------------------------------------------------------------------------------


def test_drill_incident_is_routed_to_a_participant_never_to_an_outsider(supervisor):
    UserFactory(username="outsider", role=Role.COMMUNITY_MANAGER)
    taking_part = manager("ana")
    drill = a_drill(supervisor, participants=[taking_part])
    case = drill_incident(drill)
    assert routing.route_run_incidents(run_id=drill.run_id, now=FIRST_ROW) == [case.pk]
    case.refresh_from_db()
    assert case.owner == taking_part


def test_drill_incidents_spread_over_participants_least_loaded_first(supervisor):
    ana, ben = manager("ana"), manager("ben")
    drill = a_drill(supervisor, participants=[ana, ben])
    cases = [drill_incident(drill, at=FIRST_ROW + timedelta(minutes=n)) for n in range(4)]
    routing.route_run_incidents(run_id=drill.run_id, now=FIRST_ROW)
    owners = sorted(
        Incident.objects.filter(pk__in=[c.pk for c in cases]).values_list(
            "owner__username", flat=True
        )
    )
    assert owners == ["ana", "ana", "ben", "ben"]


def test_a_replay_without_participants_routes_nothing(supervisor):
    manager("ana")
    run = Run.objects.create(key="replay:x", kind=RunKind.REPLAY)
    case = incident()
    Incident.objects.filter(pk=case.pk).update(origin=run.origin)
    assert routing.route_run_incidents(run_id=run.pk, now=FIRST_ROW) == []


def test_live_routing_never_gives_a_drill_incident(supervisor):
    ana = manager("ana")
    drill = a_drill(supervisor, participants=[ana])
    case = drill_incident(drill)
    assert routing.route_incident(incident_id=case.pk, now=START) is None


# --- inbox ----------------------------------------------------------------------------------


def inbox_ids(user) -> list[int]:
    return list(
        inbox_incident_ids(inbox_viewer(user), InboxFilters(), now=START, policy=sla_policy())
    )


def test_participant_sees_the_drill_incident_in_the_inbox(supervisor):
    ana = manager("ana")
    drill = a_drill(supervisor, participants=[ana])
    case = drill_incident(drill)
    assert case.pk in inbox_ids(ana)


def test_outsider_inbox_stays_live_only(supervisor):
    ana, outsider = manager("ana"), manager("olga")
    drill = a_drill(supervisor, participants=[ana])
    live = incident()
    drill_incident(drill)
    assert inbox_ids(outsider) == [live.pk]


def test_closing_a_drill_takes_its_incidents_out_of_the_inbox(supervisor):
    ana = manager("ana")
    drill = a_drill(supervisor, participants=[ana])
    drill_incident(drill)
    services.close_drill(actor=supervisor, drill=drill, now=START + timedelta(minutes=5))
    assert inbox_ids(ana) == []


def test_inbox_page_shows_the_drill_badge_on_drill_incidents_only(client, supervisor):
    ana = manager("ana")
    drill = a_drill(supervisor, participants=[ana])
    live = incident()
    case = drill_incident(drill)
    client.force_login(ana)
    page = client.get(reverse("inbox")).content.decode()
    drill_row = page.split(f'id="incident-row-{case.pk}"')[1].split("</tr>")[0]
    live_row = page.split(f'id="incident-row-{live.pk}"')[1].split("</tr>")[0]
    assert "data-drill-badge" in drill_row
    assert "data-drill-badge" not in live_row


def test_incident_page_of_a_drill_shows_the_badge(client, supervisor):
    drill = a_drill(supervisor)
    case = drill_incident(drill)
    client.force_login(supervisor)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert "data-drill-badge" in page


# --- starting, closing, permissions ---------------------------------------------------------


def test_community_manager_cannot_open_the_drills(client, manager):
    client.force_login(manager)
    assert client.get(reverse("drills:list")).status_code == 403


def test_drill_list_has_an_empty_state(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("drills:list"))
    assert b"No drill yet" in response.content


def test_supervisor_finds_drills_in_the_navigation(client, supervisor, manager):
    client.force_login(supervisor)
    urls = [item["url"] for item in client.get(reverse("profile")).context["nav_items"]]
    assert reverse("drills:list") in urls
    client.force_login(manager)
    urls = [item["url"] for item in client.get(reverse("profile")).context["nav_items"]]
    assert reverse("drills:list") not in urls


def test_close_asks_for_confirmation_before_closing(client, supervisor):
    drill = a_drill(supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("drills:close", args=[drill.pk]))
    assert b"confirm-close" in response.content
    drill.refresh_from_db()
    assert drill.status == DrillStatus.RUNNING


def test_closing_ends_the_run_and_is_audited(client, supervisor):
    drill = a_drill(supervisor)
    client.force_login(supervisor)
    client.post(reverse("drills:close", args=[drill.pk]))
    drill.refresh_from_db()
    assert drill.status == DrillStatus.CLOSED
    assert drill.closed_by == supervisor
    assert drill.run.finished_at is not None


def test_a_closed_drill_is_not_closed_twice(supervisor):
    drill = a_drill(supervisor)
    services.close_drill(actor=supervisor, drill=drill, now=START)
    with pytest.raises(services.DrillError):
        services.close_drill(actor=supervisor, drill=drill, now=START)


# --- report ---------------------------------------------------------------------------------


def test_scenario_time_runs_speed_times_the_wall_clock(supervisor):
    drill = a_drill(supervisor, speed=60)
    assert services.scenario_time(drill, START + timedelta(seconds=30)) == FIRST_ROW + timedelta(
        minutes=30
    )


def test_report_gives_each_milestone_in_scenario_time_from_the_first_mention(supervisor):
    drill = a_drill(supervisor, speed=60)
    CrisisSuggestion.objects.create(
        topic="billing",
        reason=CrisisSuggestion.Reason.INCIDENTS,
        protocol_version=active_version(),
        raised_at=FIRST_ROW + timedelta(minutes=12),
        origin=drill.run.origin,
    )
    # Declared 20 s of wall time after the start: 20 scenario minutes at speed 60.
    Crisis.objects.create(
        title="Billing",
        level=2,
        topics=["billing"],
        status=CrisisStatus.ACTIVE,
        commander=supervisor,
        declared_by=supervisor,
        declared_at=START + timedelta(seconds=20),
        protocol_version=active_version(),
        origin=drill.run.origin,
    )
    found = report.drill_report(drill, now=START + timedelta(minutes=1))
    offsets = {m.key: report.offset_label(m.since_start) for m in found.milestones}
    assert offsets == {
        "first_mention": "+0 min",
        "suggestion": "+12 min",
        "declaration": "+20 min",
        "statement": "",
    }


def test_report_ignores_live_crises(supervisor):
    drill = a_drill(supervisor)
    Crisis.objects.create(
        title="Real",
        level=2,
        topics=["billing"],
        status=CrisisStatus.ACTIVE,
        commander=supervisor,
        declared_by=supervisor,
        declared_at=START,
        protocol_version=active_version(),
    )
    found = report.drill_report(drill, now=START)
    assert {m.key: m.at for m in found.milestones}["declaration"] is None


def test_sla_compliance_reads_responses_in_scenario_time(supervisor):
    drill = a_drill(supervisor, speed=60)
    # Due 60 scenario minutes after opening at the first row (the factory's SLA).
    drill_incident(drill, first_response_at=START + timedelta(seconds=30))  # +30 min: in time
    drill_incident(drill, first_response_at=START + timedelta(seconds=90))  # +90 min: late
    drill_incident(drill)  # unanswered, due +60 min
    at_two_hours = report.sla_compliance(drill, at=FIRST_ROW + timedelta(hours=2))
    assert (at_two_hours.in_time, at_two_hours.late, at_two_hours.missed) == (1, 1, 1)
    assert at_two_hours.percent == 33


def test_drill_page_shows_the_report_once_played(client, supervisor):
    drill = a_drill(supervisor)
    Drill.objects.filter(pk=drill.pk).update(status=DrillStatus.PLAYED, played_at=START)
    client.force_login(supervisor)
    page = client.get(reverse("drills:detail", args=[drill.pk])).content.decode()
    assert 'id="drill-report"' in page
    assert "+0 min" in page


# --- scenarios ------------------------------------------------------------------------------


def upload(client, text: str, name: str = "Upload"):
    data = SimpleUploadedFile("scenario.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("drills:scenario_new"), {"name": name, "kind": "csv", "file": data})


def test_an_uploaded_csv_becomes_a_scenario_of_its_rows(client, supervisor):
    client.force_login(supervisor)
    response = upload(client, csv_rows(4))
    scenario = Scenario.objects.get()
    assert response.status_code == 302
    assert (scenario.rows, scenario.kind) == (4, ScenarioKind.CSV)


def test_an_upload_with_bad_rows_is_refused_naming_their_lines(client, supervisor):
    client.force_login(supervisor)
    bad = csv_rows(2) + "m9,javascript:alert(1),x,2026-03-02T09:30:00Z,eve,1,es,bluesky\n"
    response = upload(client, bad)
    assert response.status_code == 400
    assert "line 4" in response.content.decode()
    assert not Scenario.objects.exists()


def test_an_upload_over_the_size_cap_is_refused(client, supervisor, monkeypatch):
    monkeypatch.setattr(services, "MAX_SCENARIO_BYTES", 100)
    client.force_login(supervisor)
    response = upload(client, csv_rows(4))
    assert response.status_code == 400
    assert not Scenario.objects.exists()


def test_a_file_without_the_import_header_is_refused_clearly(client, supervisor):
    client.force_login(supervisor)
    response = upload(client, "just,some,columns\n1,2,3\n")
    assert response.status_code == 400
    assert not Scenario.objects.exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda text: (HEADER + text).encode("utf-8", "surrogatepass")),
    ),
    name=st.text(max_size=250),
)
def test_any_upload_is_stored_or_refused_with_a_reason(supervisor, data, name):
    try:
        scenario = services.create_csv_scenario(actor=supervisor, name=name, data=data, now=START)
    except services.DrillError as refused:
        assert str(refused)
    else:
        assert scenario.rows > 0
        assert "\x00" not in scenario.name


def test_the_simulator_scenario_holds_its_billing_crisis(supervisor):
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    scenario = services.create_simulator_scenario(actor=supervisor, name="", now=now, hours=1)
    parsed = services.parsed_scenario(scenario)
    assert scenario.kind == ScenarioKind.SIMULATOR
    assert scenario.rows == len(parsed.rows) > 0
    assert parsed.rows[-1].published_at <= now
    assert any("cobr" in row.text.lower() for row in parsed.rows)


# --- starting and ticking -------------------------------------------------------------------


def test_starting_a_drill_makes_the_starter_and_active_managers_its_participants(
    client, supervisor
):
    ana = manager("ana")
    UserFactory(username="gone", role=Role.COMMUNITY_MANAGER, is_active=False)
    scenario = stored_scenario(supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("drills:start"))
    chosen = [user.pk for user in response.context["form"].initial["participants"]]
    response = client.post(
        reverse("drills:start"),
        {"scenario": scenario.pk, "speed": 120, "participants": chosen},
    )
    drill = Drill.objects.get()
    assert response.url == reverse("drills:detail", args=[drill.pk])
    assert set(drill.run.participants.all()) == {supervisor, ana}
    assert (drill.run.kind, drill.speed, drill.scenario_start) == (RunKind.DRILL, 120, FIRST_ROW)


def test_a_speed_out_of_range_is_refused(supervisor):
    with pytest.raises(services.DrillError):
        services.start_drill(
            actor=supervisor, scenario=stored_scenario(supervisor), speed=5000, now=START
        )


def test_a_community_manager_cannot_start_a_drill(manager, supervisor):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_drill(
            actor=manager, scenario=stored_scenario(supervisor), speed=60, now=START
        )


def started(supervisor, rows: int = 4, speed: int = 60) -> Drill:
    return services.start_drill(
        actor=supervisor, scenario=stored_scenario(supervisor, rows), speed=speed, now=START
    )


def test_a_tick_plays_only_the_rows_the_scenario_clock_made_due(supervisor):
    drill = started(supervisor)  # rows at 9:00, 9:05, 9:10, 9:15; x60
    tick = services.advance_drill(drill_id=drill.pk, now=START + timedelta(seconds=6))
    drill.refresh_from_db()
    assert (tick.played, drill.run.played, drill.run.clock) == (
        2,
        2,
        FIRST_ROW + timedelta(minutes=5),
    )
    assert drill.status == DrillStatus.RUNNING


def test_ticking_again_at_the_same_moment_stores_nothing_twice(supervisor):
    from monitoring.models import Mention

    drill = started(supervisor)
    services.advance_drill(drill_id=drill.pk, now=START + timedelta(seconds=6))
    stored = Mention.objects.filter(origin=drill.run.origin).count()
    tick = services.advance_drill(drill_id=drill.pk, now=START + timedelta(seconds=6))
    assert tick.played == 0
    assert Mention.objects.filter(origin=drill.run.origin).count() == stored == 2


def test_the_last_row_played_makes_the_drill_played(supervisor):
    drill = started(supervisor)
    tick = services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=1))
    drill.refresh_from_db()
    assert tick.running is False
    assert drill.status == DrillStatus.PLAYED
    assert drill.played_at == START + timedelta(minutes=1)


def test_a_tick_plays_at_most_its_bound_and_says_more_is_due(supervisor):
    drill = started(supervisor)
    tick = services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=1), limit=3)
    assert (tick.played, tick.more_due, tick.running) == (3, True, True)


def test_a_closed_drill_plays_nothing_more(supervisor):
    drill = started(supervisor)
    services.close_drill(actor=supervisor, drill=drill, now=START)
    assert services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=1)) is None
    drill.refresh_from_db()
    assert drill.run.played == 0


def test_a_drill_another_worker_is_ticking_is_left_alone(supervisor):
    drill = started(supervisor)
    Drill.objects.filter(pk=drill.pk).update(ticking_until=START + timedelta(minutes=5))
    assert services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=1)) is None


def test_the_beat_restarts_a_drill_whose_ticks_stopped(supervisor):
    drill = started(supervisor)
    Drill.objects.filter(pk=drill.pk).update(ticked_at=START)
    assert services.stalled_drill_ids(now=START + timedelta(seconds=10)) == []
    assert services.stalled_drill_ids(now=START + timedelta(minutes=1)) == [drill.pk]


# --- the board's real figures ---------------------------------------------------------------

THREATS = (
    "Si Brisa no devuelve el cobro duplicado en 48 horas: reclamación en consumo y a la OCU",
    "Esto es para llevarlo a la OCU. Brisa cobrando dos veces la factura a sus clientes",
)


def legal_threats_scenario(by) -> Scenario:
    """Five quiet minutes, then eight legal threats from distinct authors from 9:10, 40 s
    apart: high incidents, and the crisis rule's N=5 reached at 9:12:40."""
    quiet = [
        f"q{n},https://example.org/q/{n},Buenos días {n},"
        f"{(FIRST_ROW + timedelta(minutes=n)).isoformat()},calm{n},50,es,bluesky\n"
        for n in range(5)
    ]
    threats = [
        f"l{n},https://example.org/l/{n},{THREATS[n % 2]},"
        f"{(FIRST_ROW + timedelta(minutes=10, seconds=40 * n)).isoformat()},"
        f"legal{n},900,es,bluesky\n"
        for n in range(8)
    ]
    return Scenario.objects.create(
        name="Legal threats",
        kind=ScenarioKind.CSV,
        data=HEADER + "".join(quiet + threats),
        rows=len(quiet + threats),
        created_by=by,
        created_at=START,
    )


def board_figures(now: datetime):
    from crisis.board import headline, incident_metrics, mention_metrics
    from crisis.board.filters import parse_filters

    f = parse_filters({"range": "7d"}, now=now)
    return (
        mention_metrics.totals(f),
        mention_metrics.by_platform(f),
        incident_metrics.open_incidents_by_severity(f),
        incident_metrics.sla_summary(now),
        incident_metrics.exposure_now(now),
        headline.headline(now).level,
    )


def test_a_played_drill_leaves_the_boards_real_figures_unchanged(
    supervisor, django_capture_on_commit_callbacks
):
    incident(at=FIRST_ROW - timedelta(hours=1))  # the real world: one open incident
    now = FIRST_ROW + timedelta(hours=1)
    before = board_figures(now)
    drill = services.start_drill(
        actor=supervisor, scenario=legal_threats_scenario(supervisor), speed=3600, now=START
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=5))
    drill.refresh_from_db()
    assert drill.status == DrillStatus.PLAYED
    # The drill did something the board would show: high incidents and a crisis suggestion.
    assert Incident.objects.filter(origin=drill.run.origin, severity="high").count() == 8
    assert CrisisSuggestion.objects.filter(origin=drill.run.origin).exists()
    assert board_figures(now) == before


def test_a_played_drill_reports_its_suggestion_from_the_first_mention(
    supervisor, django_capture_on_commit_callbacks
):
    drill = services.start_drill(
        actor=supervisor, scenario=legal_threats_scenario(supervisor), speed=3600, now=START
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.advance_drill(drill_id=drill.pk, now=START + timedelta(minutes=5))
    found = report.drill_report(drill, now=START + timedelta(minutes=5))
    offsets = {m.key: report.offset_label(m.since_start) for m in found.milestones}
    assert offsets["suggestion"] == "+12 min"


def test_the_drills_events_and_suggestions_name_the_overall_topic_as_readers_see_it(
    supervisor, client
):
    drill = a_drill(supervisor)
    CrisisSuggestion.objects.create(
        topic="__all__",
        reason="incidents",
        origin=drill.run.origin,
        protocol_version=active_version(),
        raised_at=FIRST_ROW,
    )
    [event] = selectors.events(drill, scenario_at=lambda at: at)
    assert event.detail.startswith("all mentions · ")
    client.force_login(supervisor)
    page = client.get(reverse("drills:detail", args=[drill.pk])).content.decode()
    assert "__all__" not in page
    assert "all mentions ·" in page
