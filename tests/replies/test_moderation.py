"""Moderation without censorship: a justified request, approved where the protocol says (deleting
always, never by the requester), carried out through the platform where it can be and by hand
elsewhere, reversible when hidden, final when deleted, and the mention always kept in Calma."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import moderation
from crisis.replies.models import ModerationAction, ModerationRequest, ModerationState
from crisis.roles import Role
from monitoring.models import Mention
from protocols.models import ProtocolVersion
from protocols.schema import upgrade
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, manager, scored_mention, team

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)
JUSTIFICATION = "Publishes a customer's home address; it must not stay visible."


@pytest.fixture
def care():
    return team("Care")


@pytest.fixture
def cm(care):
    return manager("cm-moderation", of=care)


@pytest.fixture
def boss(supervisor):
    return supervisor


@pytest.fixture
def second_boss(db):
    return UserFactory(username="boss-two", role=Role.SUPERVISOR)


@pytest.fixture
def case(cm, care):
    return incident(state=IncidentState.IN_PROGRESS, owner=cm, of=care)


def _ask(actor, case, action=ModerationAction.HIDE, mention=None, justification=JUSTIFICATION):
    return moderation.request_moderation(
        actor=actor,
        mention=mention or case.first_mention,
        action=action,
        justification=justification,
        incident=case,
        now=NOW,
    )


def _hide_needs_approval(case, needed: bool):
    config = upgrade(active_version().config)
    config["replies"] = {**config["replies"], "hide_needs_approval": needed}
    number = ProtocolVersion.objects.order_by("-number").values_list("number", flat=True)[0] + 1
    case.protocol_version = ProtocolVersion.objects.create(
        number=number, name="strict moderation", status="archived", config=config
    )
    case.save(update_fields=["protocol_version"])


# --- justification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "justification", ["", "   ", "\n\t  \n", "too short", "!!!!!!!!!!!!!!!!!!!!", "a . b . c"]
)
def test_a_request_without_a_real_justification_is_refused(cm, case, justification):
    with pytest.raises(ValidationError):
        _ask(cm, case, justification=justification)
    assert not ModerationRequest.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="moderation.").exists()


def test_a_justification_is_bounded(cm, case):
    with pytest.raises(ValidationError):
        _ask(cm, case, justification="x" * (moderation.JUSTIFICATION_MAX_LENGTH + 1))
    assert not ModerationRequest.objects.exists()


def test_the_justification_is_stored_trimmed(cm, case):
    request = _ask(cm, case, justification=f"  {JUSTIFICATION}\n")
    assert request.justification == JUSTIFICATION


# --- approval rules -----------------------------------------------------------------------


def test_deleting_always_needs_a_supervisor_and_the_supervisors_are_told(
    cm, case, boss, second_boss, django_capture_on_commit_callbacks
):
    _hide_needs_approval(case, False)
    with django_capture_on_commit_callbacks(execute=True):
        request = _ask(cm, case, ModerationAction.DELETE)
    assert request.state == ModerationState.REQUESTED
    assert request.needs_approval
    told = set(
        Notification.objects.filter(kind=NotificationKind.MODERATION_REQUESTED).values_list(
            "user__username", flat=True
        )
    )
    assert told == {boss.username, second_boss.username}


def test_hiding_needs_no_approval_when_the_protocol_says_so(cm, case):
    _hide_needs_approval(case, False)
    request = _ask(cm, case, ModerationAction.HIDE)
    assert request.state == ModerationState.APPROVED
    assert not request.needs_approval
    assert not Notification.objects.filter(kind=NotificationKind.MODERATION_REQUESTED).exists()


def test_hiding_needs_approval_when_the_incidents_protocol_says_so(cm, case):
    _hide_needs_approval(case, True)
    request = _ask(cm, case, ModerationAction.HIDE)
    assert request.state == ModerationState.REQUESTED
    assert request.needs_approval


def test_without_an_incident_the_active_protocol_decides_and_only_a_supervisor_asks(cm, boss, case):
    mention = case.first_mention
    with pytest.raises(PermissionDenied):
        moderation.request_moderation(
            actor=cm, mention=mention, action="hide", justification=JUSTIFICATION, now=NOW
        )
    request = moderation.request_moderation(
        actor=boss, mention=mention, action="hide", justification=JUSTIFICATION, now=NOW
    )
    shipped = active_version().config.get("replies", {}).get("hide_needs_approval", False)
    assert request.needs_approval is bool(shipped)


def test_the_requester_cannot_approve_their_own_request(boss, second_boss, case):
    request = _ask(boss, case, ModerationAction.DELETE)
    with pytest.raises(PermissionDenied):
        moderation.approve_moderation(actor=boss, request=request, now=LATER)
    request.refresh_from_db()
    assert request.state == ModerationState.REQUESTED
    moderation.approve_moderation(actor=second_boss, request=request, now=LATER)
    request.refresh_from_db()
    assert request.state == ModerationState.APPROVED
    assert request.decided_by == second_boss


@pytest.mark.parametrize("who", ["cm", "executive", "administrator"])
def test_only_a_supervisor_decides(who, cm, case, executive, administrator):
    actor = {"cm": cm, "executive": executive, "administrator": administrator}[who]
    pending = _ask(cm, case, ModerationAction.DELETE)
    with pytest.raises(PermissionDenied):
        moderation.approve_moderation(actor=actor, request=pending, now=LATER)
    with pytest.raises(PermissionDenied):
        moderation.reject_moderation(actor=actor, request=pending, comment="no", now=LATER)
    pending.refresh_from_db()
    assert pending.state == ModerationState.REQUESTED


def test_rejecting_needs_a_comment_and_tells_the_requester(
    cm, case, boss, django_capture_on_commit_callbacks
):
    pending = _ask(cm, case, ModerationAction.DELETE)
    with pytest.raises(ValidationError):
        moderation.reject_moderation(actor=boss, request=pending, comment="  ", now=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject_moderation(
            actor=boss,
            request=pending,
            comment="Answer it instead; it is a fair complaint.",
            now=LATER,
        )
    pending.refresh_from_db()
    assert pending.state == ModerationState.REJECTED
    assert pending.decision_comment == "Answer it instead; it is a fair complaint."
    assert Notification.objects.filter(
        user=cm, kind=NotificationKind.MODERATION_DECIDED, url__endswith=f"/{pending.pk}/"
    ).exists()


def test_a_decided_request_cannot_be_decided_again(cm, case, boss):
    pending = _ask(cm, case, ModerationAction.DELETE)
    moderation.approve_moderation(actor=boss, request=pending, now=LATER)
    with pytest.raises(moderation.ModerationRefused):
        moderation.reject_moderation(
            actor=boss, request=pending, comment="changed my mind", now=LATER
        )


# --- who may ask ----------------------------------------------------------------------------


def test_someone_who_cannot_act_on_the_incident_cannot_ask(case, care, executive, administrator):
    colleague = manager("colleague", of=care)
    stranger = manager("stranger", of=team("Sales"))
    for actor in (colleague, stranger, executive, administrator):
        with pytest.raises(PermissionDenied):
            _ask(actor, case)
    assert not ModerationRequest.objects.exists()


def test_a_supervisor_asks_on_any_incident(boss, case):
    assert _ask(boss, case).requested_by == boss


def test_a_mention_outside_the_incidents_thread_is_refused(cm, case):
    elsewhere = scored_mention()
    with pytest.raises(moderation.ModerationRefused):
        _ask(cm, case, mention=elsewhere)


def test_a_reply_in_the_thread_can_be_moderated(cm, case):
    troll = scored_mention(text="jajaja idiotas", reply_to=case.first_mention)
    request = _ask(cm, case, mention=troll)
    assert request.mention == troll


def test_one_unfinished_request_per_mention(cm, case, boss):
    _ask(cm, case, ModerationAction.DELETE)
    with pytest.raises(moderation.ModerationRefused):
        _ask(boss, case, ModerationAction.HIDE)
    assert ModerationRequest.objects.count() == 1


# --- by hand, reversal, finality ------------------------------------------------------------


def test_where_calma_cannot_do_it_the_approved_request_waits_to_be_done_by_hand(cm, case):
    request = _ask(cm, case, ModerationAction.HIDE)
    assert moderation.platform_write(case.first_mention, "hide") is None
    assert moderation.carry_out_moderation(request_id=request.pk, now=LATER) == "by_hand"
    request.refresh_from_db()
    assert request.state == ModerationState.APPROVED
    moderation.mark_moderation_done_by_hand(actor=cm, request=request, now=LATER)
    request.refresh_from_db()
    assert request.state == ModerationState.DONE
    assert request.done_by_hand
    statuses = moderation.platform_statuses([case.first_mention_id])
    assert statuses[case.first_mention_id] == moderation.PlatformStatus.HIDDEN


def test_a_hidden_mention_is_shown_again_by_a_reversal_that_needs_no_approval(cm, case):
    _hide_needs_approval(case, True)
    with pytest.raises(moderation.ModerationRefused):
        _ask(cm, case, ModerationAction.UNHIDE)  # nothing hidden yet
    hide = _ask(cm, case, ModerationAction.HIDE)
    moderation.approve_moderation(
        actor=UserFactory(username="b2", role=Role.SUPERVISOR), request=hide, now=NOW
    )
    moderation.mark_moderation_done_by_hand(actor=cm, request=hide, now=NOW)
    with pytest.raises(moderation.ModerationRefused):
        _ask(cm, case, ModerationAction.HIDE)  # already hidden
    unhide = _ask(
        cm, case, ModerationAction.UNHIDE, justification="The author apologised and edited it."
    )
    assert unhide.state == ModerationState.APPROVED
    assert not unhide.needs_approval
    assert unhide.reverses == hide
    moderation.mark_moderation_done_by_hand(actor=cm, request=unhide, now=LATER)
    statuses = moderation.platform_statuses([case.first_mention_id])
    assert statuses[case.first_mention_id] == moderation.PlatformStatus.VISIBLE


def test_deleting_is_final_and_the_mention_stays_in_calma(cm, case, boss):
    mention = case.first_mention
    text = mention.text
    delete = _ask(cm, case, ModerationAction.DELETE)
    moderation.approve_moderation(actor=boss, request=delete, comment="Doxxing.", now=LATER)
    moderation.mark_moderation_done_by_hand(actor=cm, request=delete, now=LATER)
    for action in ModerationAction:
        with pytest.raises(moderation.ModerationRefused):
            _ask(cm, case, action)
    stored = Mention.objects.get(pk=mention.pk)
    assert stored.text == text
    assert (
        moderation.platform_statuses([mention.pk])[mention.pk] == moderation.PlatformStatus.DELETED
    )
    with pytest.raises(ProtectedError):
        Mention.objects.filter(pk=mention.pk).delete()


def test_each_step_is_audited_with_its_justification_and_no_contact_details(cm, case, boss):
    request = _ask(
        cm,
        case,
        ModerationAction.DELETE,
        justification="Posts my colleague's phone +34 612 345 678 and ana@example.org",
    )
    moderation.approve_moderation(actor=boss, request=request, comment="Yes.", now=LATER)
    moderation.mark_moderation_done_by_hand(actor=cm, request=request, now=LATER)
    events = list(
        AuditEvent.objects.filter(
            object_type="replies.moderationrequest", object_id=str(request.pk)
        ).order_by("pk")
    )
    assert [event.verb for event in events] == [
        "moderation.request",
        "moderation.approve",
        "moderation.done",
    ]
    asked = events[0].after
    assert asked["action"] == "delete" and asked["needs_approval"] is True
    assert "[phone]" in asked["justification"] and "[e-mail]" in asked["justification"]
    assert "612" not in str([event.after for event in events])
    assert "ana@example.org" not in str([event.after for event in events])
    assert [events[0].actor, events[1].actor, events[2].actor] == [cm, boss, cm]
    # The request itself keeps the full justification for the people who decide.
    request.refresh_from_db()
    assert "ana@example.org" in request.justification
