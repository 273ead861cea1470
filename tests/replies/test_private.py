"""Take it private at service level: the acknowledgement drafted from the protocol's template in
the incident's language, the follow-up with its due date and owner, the incident moving to
"private follow-up" once the acknowledgement is out, completion resolving it; contact details
kept out of the audit log and erased after the retention period; overdue notice once."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.celery import app as celery_app
from crisis.incidents.models import IncidentState
from crisis.incidents.transitions import InvalidTransition
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import private
from crisis.replies.models import (
    ContactDetails,
    FollowUp,
    FollowUpState,
    Reply,
    ReplyPurpose,
    ReplyState,
    RetentionSettings,
)
from protocols.replies import acknowledgement_templates, fill_template
from tests.incidents.factories import NOW, incident, manager, team

pytestmark = pytest.mark.django_db

EMAIL = "ana.garcia@example.net"
PHONE = "+34 (600) 123-456"


@pytest.fixture
def care(db):
    return team("Care")


@pytest.fixture
def cm(care):
    return manager("cm-private", of=care)


@pytest.fixture
def case(care, cm):
    return incident(state=IncidentState.ASSIGNED, owner=cm, of=care)


def _take(case, actor, **kwargs):
    values = {"channel": "email", "email": EMAIL, "now": NOW}
    values.update(kwargs)
    return private.take_private(actor=actor, incident=case, **values)


def _acknowledgement(case) -> Reply:
    return Reply.objects.get(incident=case, purpose=ReplyPurpose.ACKNOWLEDGEMENT)


def _expected_text(case, actor, language: str) -> str:
    template = acknowledgement_templates(case.protocol_version.config, language=language)[0]
    values = {
        "author": case.author.display_name or case.author.handle,
        "brand": "Brisa",
        "agent": actor.first_name or actor.get_username(),
        "case": f"#{case.pk}",
        "channel": "Bluesky",
    }
    return fill_template(template, values).text


def _audit_text() -> str:
    rows = AuditEvent.objects.values_list("before", "after", "object_repr")
    return json.dumps(list(rows), ensure_ascii=False)


# --- taking it private -----------------------------------------------------------------------


def test_take_private_drafts_the_acknowledgement_from_the_template_in_the_incident_language(
    case, cm
):
    follow_up = _take(case, cm)
    reply = _acknowledgement(case)
    assert reply.state == ReplyState.DRAFT
    assert reply.visibility == "public"
    assert reply.language == "es"
    assert reply.text == _expected_text(case, cm, "es")
    assert f"#{case.pk}" in reply.text and "{" not in reply.text
    assert follow_up.incident_id == case.pk
    case.refresh_from_db()
    assert case.state == IncidentState.IN_PROGRESS


def test_an_english_incident_gets_the_english_acknowledgement(case, cm):
    case.first_mention.language = "en"
    case.first_mention.save(update_fields=["language"])
    case.opened_score = {**case.opened_score, "language": "en"}
    case.save(update_fields=["opened_score"])
    _take(case, cm)
    reply = _acknowledgement(case)
    assert reply.language == "en"
    assert reply.text == _expected_text(case, cm, "en")
    assert reply.text.startswith("Hi ")


def test_follow_up_is_owned_by_the_actor_and_due_after_the_protocol_hours_by_default(case, cm):
    follow_up = _take(case, cm, phone=PHONE, note="Double charge on the March invoice")
    assert follow_up.owner_id == cm.pk
    assert follow_up.created_by_id == cm.pk
    assert follow_up.state == FollowUpState.OPEN
    assert follow_up.due_at == NOW + timedelta(hours=24)
    assert follow_up.contact.email == EMAIL
    assert follow_up.contact.phone == PHONE


def test_follow_up_takes_a_given_owner_and_due_date(case, cm, care):
    colleague = manager("colleague", of=care)
    due = NOW + timedelta(hours=3)
    follow_up = _take(case, cm, owner=colleague, due_at=due, channel="dm", email="")
    assert follow_up.owner_id == colleague.pk
    assert follow_up.due_at == due
    assert follow_up.contact is None


def test_no_contact_details_are_stored_when_none_is_given(case, cm):
    _take(case, cm, channel="dm", email="")
    assert not ContactDetails.objects.exists()


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@b", "ana@@example.org", "x" * 250 + "@e.es"]
)
def test_an_invalid_email_is_refused(case, cm, email):
    with pytest.raises(ValidationError):
        _take(case, cm, email=email)
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize(
    "phone", ["12345", "call me", "+34 600 12a 456", "1" * 21, "600123456; drop", "++--()"]
)
def test_an_invalid_phone_is_refused(case, cm, phone):
    with pytest.raises(ValidationError):
        _take(case, cm, channel="phone", email="", phone=phone)
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("phone", ["600123456", "+34 600 123 456", "(91) 555-0100", "123456"])
def test_usual_phone_numbers_are_accepted(case, cm, phone):
    follow_up = _take(case, cm, channel="phone", email="", phone=phone)
    assert follow_up.contact.phone == phone


def test_a_past_due_date_is_refused(case, cm):
    with pytest.raises(ValidationError):
        _take(case, cm, due_at=NOW - timedelta(minutes=1))


def test_second_follow_up_is_refused_while_one_is_open(case, cm):
    _take(case, cm)
    Reply.objects.filter(incident=case).update(state=ReplyState.DISCARDED)
    with pytest.raises(InvalidTransition):
        _take(case, cm)
    assert FollowUp.objects.count() == 1


def test_taking_private_is_refused_while_another_reply_is_in_the_works(case, cm):
    from crisis.replies import drafts

    drafts.start_draft(actor=cm, incident=case, now=NOW)
    with pytest.raises(InvalidTransition):
        _take(case, cm)
    assert not FollowUp.objects.exists()


def test_a_resolved_incident_is_not_taken_private(care, cm):
    resolved = incident(state=IncidentState.RESOLVED, owner=cm, of=care)
    with pytest.raises(InvalidTransition):
        _take(resolved, cm)


def test_a_manager_of_another_team_cannot_take_it_private(case):
    outsider = manager("outsider", of=team("Sales"))
    with pytest.raises(PermissionDenied):
        _take(case, outsider)
    assert not FollowUp.objects.exists()


def test_the_owner_must_work_the_incident(case, cm, executive):
    with pytest.raises(InvalidTransition):
        _take(case, cm, owner=executive)
    outsider = manager("outsider", of=team("Sales"))
    with pytest.raises(InvalidTransition):
        _take(case, cm, owner=outsider)


# --- the acknowledgement goes out; the follow-up completes -------------------------------------


def test_take_private_end_to_end_acknowledgement_approved_sent_then_completed_resolves(
    case, cm, supervisor, django_capture_on_commit_callbacks
):
    from crisis.replies import approvals, drafts, sending

    follow_up = _take(case, cm)
    reply = drafts.submit_draft(actor=cm, reply=_acknowledgement(case), now=NOW)
    assert reply.state == ReplyState.AWAITING_APPROVAL
    reply = approvals.approve_reply(actor=supervisor, reply=reply, now=NOW + timedelta(minutes=5))
    assert reply.state == ReplyState.APPROVED
    sending.mark_sent_by_hand(
        actor=cm,
        reply=reply,
        url="https://bsky.app/profile/brisa/post/1",
        now=NOW + timedelta(minutes=6),
    )
    case.refresh_from_db()
    assert case.state == IncidentState.PRIVATE_FOLLOW_UP
    assert case.first_response_at == NOW + timedelta(minutes=6)

    done = private.complete_follow_up(
        actor=cm, follow_up=follow_up, outcome="Refunded by phone", now=NOW + timedelta(hours=2)
    )
    assert done.state == FollowUpState.DONE
    assert done.completed_at == NOW + timedelta(hours=2)
    assert done.outcome == "Refunded by phone"
    case.refresh_from_db()
    assert case.state == IncidentState.RESOLVED
    assert case.resolved_at == NOW + timedelta(hours=2)
    verbs = list(
        AuditEvent.objects.filter(object_type="incidents.incident", object_id=str(case.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs[-2:] == ["incident.private_follow_up", "incident.resolve"]


def test_after_acknowledgement_sent_moves_a_replied_incident_to_private_follow_up(case, cm):
    _take(case, cm)
    reply = _acknowledgement(case)
    case.refresh_from_db()
    case.state = IncidentState.REPLIED
    case.save(update_fields=["state"])
    private.after_acknowledgement_sent(reply=reply, now=NOW)
    case.refresh_from_db()
    assert case.state == IncidentState.PRIVATE_FOLLOW_UP
    # Twice is harmless.
    private.after_acknowledgement_sent(reply=reply, now=NOW)
    assert AuditEvent.objects.filter(verb="incident.private_follow_up").count() == 1


def test_after_acknowledgement_sent_without_an_open_follow_up_leaves_the_incident(case, cm):
    follow_up = _take(case, cm)
    reply = _acknowledgement(case)
    FollowUp.objects.filter(pk=follow_up.pk).update(state=FollowUpState.DONE)
    case.refresh_from_db()
    case.state = IncidentState.REPLIED
    case.save(update_fields=["state"])
    private.after_acknowledgement_sent(reply=reply, now=NOW)
    case.refresh_from_db()
    assert case.state == IncidentState.REPLIED


def test_an_answer_is_not_an_acknowledgement(case, cm):
    from crisis.replies import drafts

    FollowUp.objects.create(
        incident=case, channel="dm", owner=cm, due_at=NOW, created_by=cm, created_at=NOW
    )
    answer = drafts.start_draft(actor=cm, incident=case, now=NOW)
    case.refresh_from_db()
    case.state = IncidentState.REPLIED
    case.save(update_fields=["state"])
    private.after_acknowledgement_sent(reply=answer, now=NOW)
    case.refresh_from_db()
    assert case.state == IncidentState.REPLIED


def test_completing_needs_an_outcome(case, cm):
    follow_up = _take(case, cm)
    with pytest.raises(ValidationError):
        private.complete_follow_up(actor=cm, follow_up=follow_up, outcome="  ", now=NOW)
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.OPEN


def test_completing_twice_is_refused(case, cm):
    follow_up = _take(case, cm)
    private.complete_follow_up(
        actor=cm, follow_up=follow_up, outcome="done", resolve_incident=False, now=NOW
    )
    with pytest.raises(InvalidTransition):
        private.complete_follow_up(actor=cm, follow_up=follow_up, outcome="again", now=NOW)


def test_completing_without_resolving_leaves_the_incident(case, cm):
    follow_up = _take(case, cm)
    case.refresh_from_db()
    state = case.state
    private.complete_follow_up(
        actor=cm, follow_up=follow_up, outcome="Will call back", resolve_incident=False, now=NOW
    )
    case.refresh_from_db()
    assert case.state == state


def test_a_follow_up_owner_who_cannot_act_on_the_incident_completes_without_resolving(
    case, cm, care
):
    colleague = manager("colleague", of=care)
    follow_up = _take(case, cm, owner=colleague)
    Reply.objects.filter(incident=case).update(state=ReplyState.DISCARDED)
    case.refresh_from_db()
    case.state = IncidentState.PRIVATE_FOLLOW_UP
    case.save(update_fields=["state"])
    done = private.complete_follow_up(
        actor=colleague, follow_up=follow_up, outcome="Sorted out", now=NOW
    )
    assert done.state == FollowUpState.DONE
    case.refresh_from_db()
    assert case.state == IncidentState.PRIVATE_FOLLOW_UP  # the incident's owner resolves it


def test_someone_unrelated_cannot_complete(case, cm):
    follow_up = _take(case, cm)
    outsider = manager("outsider", of=team("Sales"))
    with pytest.raises(PermissionDenied):
        private.complete_follow_up(actor=outsider, follow_up=follow_up, outcome="x", now=NOW)


# --- personal data ---------------------------------------------------------------------------


def test_contact_details_never_reach_the_audit_log(
    case, cm, supervisor, django_capture_on_commit_callbacks
):
    before = _audit_text()
    assert EMAIL not in before
    with django_capture_on_commit_callbacks(execute=True):
        follow_up = _take(
            case,
            cm,
            phone=PHONE,
            note=f"Write to {EMAIL} or call 600 123 456 after 5pm",
        )
    event = AuditEvent.objects.get(verb="follow_up.open")
    assert event.after["contact_id"] == follow_up.contact_id
    private.complete_follow_up(
        actor=cm,
        follow_up=follow_up,
        outcome=f"Called {PHONE}, confirmed by mail to {EMAIL}",
        now=NOW + timedelta(hours=1),
    )
    private.erase_expired_contacts(now=NOW + timedelta(days=400))
    after = _audit_text()
    for secret in (EMAIL, PHONE, "600 123 456", "123-456", "ana.garcia"):
        assert secret not in after
    assert AuditEvent.objects.filter(verb__startswith="follow_up.").count() == 3
    # Nor in any notification.
    texts = json.dumps(list(Notification.objects.values_list("title", "body")))
    assert EMAIL not in texts and "600" not in texts


def test_contact_details_are_erased_after_the_retention_period(case, cm, care):
    follow_up = _take(case, cm, phone=PHONE)
    private.complete_follow_up(
        actor=cm,
        follow_up=follow_up,
        outcome=f"Called {PHONE}",
        resolve_incident=False,
        now=NOW,
    )
    # A still-open follow-up of an incident still open keeps its details.
    other = incident(state=IncidentState.ASSIGNED, owner=cm, of=care)
    kept = _take(other, cm, email="keep@example.org")

    assert private.erase_expired_contacts(now=NOW + timedelta(days=89)) == 0
    follow_up.contact.refresh_from_db()
    assert follow_up.contact.email == EMAIL

    assert private.erase_expired_contacts(now=NOW + timedelta(days=91)) == 1
    contact = ContactDetails.objects.get(pk=follow_up.contact_id)
    assert (contact.email, contact.phone) == ("", "")
    assert contact.erased_at == NOW + timedelta(days=91)
    follow_up.refresh_from_db()
    assert PHONE not in follow_up.outcome
    kept.contact.refresh_from_db()
    assert kept.contact.email == "keep@example.org" and kept.contact.erased_at is None
    event = AuditEvent.objects.get(verb="follow_up.erase_contacts")
    assert event.actor_label == "system"
    assert event.after == {"erased": 1, "retention_days": 90}
    # Nothing left to erase: no second event.
    assert private.erase_expired_contacts(now=NOW + timedelta(days=92)) == 0
    assert AuditEvent.objects.filter(verb="follow_up.erase_contacts").count() == 1


def test_an_open_follow_up_of_a_closed_incident_is_erased_after_the_period(case, cm):
    follow_up = _take(case, cm)
    case.refresh_from_db()
    case.state = IncidentState.CLOSED
    case.closed_at = NOW
    case.save(update_fields=["state", "closed_at"])
    assert private.erase_expired_contacts(now=NOW + timedelta(days=91)) == 1
    follow_up.contact.refresh_from_db()
    assert follow_up.contact.email == ""


def test_the_retention_period_is_the_admins_setting(case, cm, administrator, supervisor):
    follow_up = _take(case, cm)
    private.complete_follow_up(
        actor=cm, follow_up=follow_up, outcome="ok", resolve_incident=False, now=NOW
    )
    with pytest.raises(PermissionDenied):
        private.update_retention(actor=supervisor, contact_retention_days=5, now=NOW)
    with pytest.raises(ValidationError):
        private.update_retention(actor=administrator, contact_retention_days=0, now=NOW)
    private.update_retention(actor=administrator, contact_retention_days=10, now=NOW)
    assert RetentionSettings.objects.get().contact_retention_days == 10
    event = AuditEvent.objects.get(verb="retention.update")
    assert (event.before, event.after) == (
        {"contact_retention_days": 90},
        {"contact_retention_days": 10},
    )
    assert private.erase_expired_contacts(now=NOW + timedelta(days=9)) == 0
    assert private.erase_expired_contacts(now=NOW + timedelta(days=11)) == 1


def test_who_sees_contact_details(case, cm, care, supervisor, executive):
    colleague = manager("colleague", of=care)
    owner_of_follow_up = manager("fu-owner", of=care)
    follow_up = _take(case, cm, owner=owner_of_follow_up)
    assert private.can_see_contact(owner_of_follow_up, follow_up)
    assert private.can_see_contact(cm, follow_up)  # the incident's owner
    assert private.can_see_contact(supervisor, follow_up)
    assert not private.can_see_contact(colleague, follow_up)
    assert not private.can_see_contact(executive, follow_up)


@given(st.text(max_size=300))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_redaction_never_fails_and_leaves_no_address(text):
    redacted = private.redact_contact_details(text + " " + EMAIL + " " + PHONE)
    assert EMAIL not in redacted
    assert PHONE not in redacted


# --- overdue ---------------------------------------------------------------------------------


def test_an_overdue_follow_up_notifies_its_owner_once(
    case, cm, care, django_capture_on_commit_callbacks
):
    colleague = manager("colleague", of=care)
    follow_up = _take(case, cm, owner=colleague, due_at=NOW + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert private.notify_overdue_follow_ups(now=NOW + timedelta(minutes=59)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert private.notify_overdue_follow_ups(now=NOW + timedelta(hours=2)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert private.notify_overdue_follow_ups(now=NOW + timedelta(hours=3)) == 0
    due = Notification.objects.filter(user=colleague, kind=NotificationKind.FOLLOW_UP_DUE)
    assert due.filter(title__contains="overdue").count() == 1
    assert str(case.pk) in due.get(title__contains="overdue").title
    follow_up.refresh_from_db()
    assert follow_up.overdue_notified_at == NOW + timedelta(hours=2)
    assert not Notification.objects.filter(user=cm, title__contains="overdue").exists()


def test_a_completed_follow_up_is_never_overdue(case, cm, django_capture_on_commit_callbacks):
    follow_up = _take(case, cm, due_at=NOW + timedelta(hours=1))
    private.complete_follow_up(
        actor=cm, follow_up=follow_up, outcome="done", resolve_incident=False, now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert private.notify_overdue_follow_ups(now=NOW + timedelta(days=2)) == 0


def test_the_sweeps_are_registered_under_the_beat_names():
    import crisis.replies.tasks  # noqa: F401  (what Celery's autodiscovery imports)

    for name in ("notify_overdue_follow_ups", "erase_expired_contacts"):
        assert f"crisis.replies.tasks.{name}" in celery_app.tasks


def test_a_supervisor_can_take_private_and_own_it(case, supervisor):
    follow_up = _take(case, supervisor)
    assert follow_up.owner_id == supervisor.pk


def test_an_inactive_owner_is_refused(case, cm, care):
    gone = manager("gone", of=care)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    with pytest.raises(InvalidTransition):
        _take(case, cm, owner=gone)


def test_the_admin_role_alone_cannot_take_private(case, administrator):
    with pytest.raises(PermissionDenied):
        _take(case, administrator)
    assert not FollowUp.objects.exists()
