"""The state machine: every move in ALLOWED_TRANSITIONS goes through its service, every other
move is refused with a clear message and changes nothing."""

from datetime import timedelta

import pytest

from crisis.incidents import services
from crisis.incidents.models import CloseReason, IncidentState, TriageCorrection
from crisis.incidents.transitions import ALLOWED_TRANSITIONS, InvalidTransition, is_allowed
from crisis.models import AuditEvent
from tests.incidents.factories import NOW, incident, manager

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)


def _assign(actor, case, colleague):
    return services.assign_incident(actor=actor, incident=case, to_user=colleague, now=LATER)


# The service that moves an incident into each state (the replies issue adds the services
# for awaiting approval and private follow-up; their moves are checked by the table test).
SERVICE_FOR = {
    IncidentState.NEW: lambda actor, case, colleague: services.hand_back_incident(
        actor=actor, incident=case, reason="shift ended", now=LATER
    ),
    IncidentState.ASSIGNED: _assign,
    IncidentState.IN_PROGRESS: lambda actor, case, colleague: services.start_progress(
        actor=actor, incident=case, now=LATER
    ),
    IncidentState.REPLIED: lambda actor, case, colleague: services.record_first_response(
        actor=actor, incident=case, now=LATER
    ),
    IncidentState.RESOLVED: lambda actor, case, colleague: services.resolve_incident(
        actor=actor, incident=case, now=LATER
    ),
    IncidentState.CLOSED: lambda actor, case, colleague: services.close_incident(
        actor=actor, incident=case, reason=CloseReason.DUPLICATE, now=LATER
    ),
    IncidentState.REOPENED: lambda actor, case, colleague: services.reopen_incident(
        actor=actor, incident=case, now=LATER
    ),
    IncidentState.ESCALATED: lambda actor, case, colleague: services.escalate_incident(
        actor=actor, incident=case, note="legal threat", now=LATER
    ),
}
MOVES = [(source, target) for target in SERVICE_FOR for source in IncidentState]


def _id(move):
    return f"{move[0]}->{move[1]}"


@pytest.mark.parametrize(("source", "target"), MOVES, ids=map(_id, MOVES))
def test_each_move_is_made_exactly_when_the_table_allows_it(supervisor, source, target):
    owner, colleague = manager("owner"), manager("colleague")
    case = incident(state=source, owner=owner)
    if is_allowed(source, target):
        SERVICE_FOR[target](supervisor, case, colleague)
        case.refresh_from_db()
        assert case.state == target
        assert AuditEvent.objects.filter(object_id=str(case.pk), actor=supervisor).count() == 1
    else:
        with pytest.raises(InvalidTransition):
            SERVICE_FOR[target](supervisor, case, colleague)
        case.refresh_from_db()
        assert case.state == source
        assert not AuditEvent.objects.filter(object_id=str(case.pk)).exists()


def test_the_table_names_every_state_and_only_states():
    assert set(ALLOWED_TRANSITIONS) == set(IncidentState)
    assert all(targets <= set(IncidentState) for targets in ALLOWED_TRANSITIONS.values())


def test_a_closed_incident_can_only_be_reopened():
    assert ALLOWED_TRANSITIONS[IncidentState.CLOSED] == {IncidentState.REOPENED}


def test_a_refused_move_says_what_the_incident_is_and_what_it_cannot_become(supervisor):
    case = incident(state=IncidentState.CLOSED)
    with pytest.raises(InvalidTransition) as refused:
        services.start_progress(actor=supervisor, incident=case, now=LATER)
    assert str(refused.value) == f"Incident #{case.pk} is closed; it cannot become in progress."


def test_closing_an_incident_nobody_replied_to_needs_a_reason(supervisor):
    case = incident(state=IncidentState.ASSIGNED)
    with pytest.raises(InvalidTransition):
        services.close_incident(actor=supervisor, incident=case, now=LATER)
    case.refresh_from_db()
    assert case.state == IncidentState.ASSIGNED


def test_closing_without_a_reply_keeps_the_reason_and_note(supervisor):
    case = incident(state=IncidentState.NEW)
    services.close_incident(
        actor=supervisor, incident=case, reason=CloseReason.SPAM, note="bot", now=LATER
    )
    case.refresh_from_db()
    assert (case.close_reason, case.close_note, case.closed_at) == ("spam", "bot", LATER)


def test_closing_after_a_reply_needs_no_reason(supervisor):
    case = incident(state=IncidentState.REPLIED, first_response_at=NOW)
    services.close_incident(actor=supervisor, incident=case, now=LATER)
    case.refresh_from_db()
    assert case.state == IncidentState.CLOSED


def test_an_unknown_close_reason_is_refused(supervisor):
    case = incident(state=IncidentState.NEW)
    with pytest.raises(InvalidTransition):
        services.close_incident(actor=supervisor, incident=case, reason="bored", now=LATER)


def test_the_first_response_time_is_kept_when_replying_again(supervisor):
    case = incident(state=IncidentState.IN_PROGRESS, first_response_at=NOW)
    services.record_first_response(actor=supervisor, incident=case, now=LATER)
    case.refresh_from_db()
    assert case.first_response_at == NOW


def test_resolving_records_when(supervisor):
    case = incident(state=IncidentState.IN_PROGRESS)
    services.resolve_incident(actor=supervisor, incident=case, now=LATER)
    case.refresh_from_db()
    assert case.resolved_at == LATER


def test_taking_an_unowned_incident_makes_the_taker_its_owner():
    taker = manager("taker")
    case = incident(state=IncidentState.NEW)
    services.take_incident(actor=taker, incident=case, now=LATER)
    case.refresh_from_db()
    assert (case.state, case.owner) == (IncidentState.ASSIGNED, taker)


def test_an_owned_incident_cannot_be_taken_only_handed_over():
    owner, other = manager("owner"), manager("other")
    case = incident(state=IncidentState.ASSIGNED, owner=owner)
    with pytest.raises(InvalidTransition, match="ask them for a hand-over"):
        services.take_incident(actor=other, incident=case, now=LATER)
    services.hand_over_incident(actor=owner, incident=case, to_user=other, now=LATER)
    case.refresh_from_db()
    assert case.owner == other


def test_an_incident_cannot_be_handed_to_someone_who_does_not_work_incidents(executive):
    owner = manager("owner")
    case = incident(state=IncidentState.ASSIGNED, owner=owner)
    with pytest.raises(InvalidTransition):
        services.hand_over_incident(actor=owner, incident=case, to_user=executive, now=LATER)


def test_work_starts_only_once_someone_owns_the_incident():
    case = incident(state=IncidentState.ASSIGNED)
    with pytest.raises(InvalidTransition, match="Take incident"):
        services.start_progress(actor=manager("cm1"), incident=case, now=LATER)


def test_handing_back_clears_the_owner(supervisor):
    case = incident(state=IncidentState.ASSIGNED, owner=manager("owner"))
    services.hand_back_incident(actor=None, incident=case, reason="SLA breached", now=LATER)
    case.refresh_from_db()
    assert (case.state, case.owner) == (IncidentState.NEW, None)
    assert AuditEvent.objects.get(verb="incident.hand_back").actor_label == "system"


def test_correcting_the_class_keeps_the_correction_as_labelled_data():
    owner = manager("owner")
    case = incident(state=IncidentState.IN_PROGRESS, owner=owner)
    services.correct_triage_class(
        actor=owner, incident=case, to_class="troll_abuse", reason="insults only", now=LATER
    )
    case.refresh_from_db()
    correction = TriageCorrection.objects.get()
    assert case.triage_class == "troll_abuse"
    assert (correction.from_class, correction.to_class, correction.by) == (
        "complaint_company_fault",
        "troll_abuse",
        owner,
    )
    assert correction.mention == case.first_mention
    assert AuditEvent.objects.get(verb="incident.correct_class").after["reason"] == "insults only"


def test_a_class_correction_needs_a_reason():
    owner = manager("owner")
    case = incident(state=IncidentState.IN_PROGRESS, owner=owner)
    with pytest.raises(InvalidTransition):
        services.correct_triage_class(
            actor=owner, incident=case, to_class="question", reason="  ", now=LATER
        )
    assert not TriageCorrection.objects.exists()
