"""Moderation without censorship: a justified request, approved where the protocol says (deleting
always, never by the requester), carried out through the platform where it can be and by hand
elsewhere, reversible when hidden, final when deleted, and the mention always kept in Calma."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import moderation
from crisis.replies.models import ModerationAction, ModerationRequest, ModerationState
from crisis.roles import Role
from monitoring.connectors.base import TransientError
from monitoring.models import Mention
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World
from monitoring.simulator.writes import DEMO_ACCESS_TOKEN
from protocols.models import ProtocolVersion
from protocols.schema import upgrade
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import NOW, incident, manager, scored_mention, team
from tests.replies import sending_factories

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


# --- through the platform (the simulator, over loopback HTTP) ------------------------------

SIM_START = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(7, SIM_START, hours=2, chatter_per_hour=60, crisis_at_minutes=30)


@pytest.fixture
def simulator(world):
    with SimulatorServer(world, clock=SIM_START + timedelta(hours=2)) as server:
        yield server


def _on_the_platform(simulator, world, monkeypatch, *, owner, of, platform="youtube"):
    """An incident on a simulated post, found by a source whose account can moderate there."""
    post = next(post for post in world.posts_for(platform) if not post.reply_to)
    root = simulator.url(platform) + ("/v3" if platform == "youtube" else "")
    found_by = sending_factories.source(platform)
    made = sending_factories.account(platform, base_url=root, sources=(found_by,))
    sending_factories.secrets(monkeypatch, made, access_token=DEMO_ACCESS_TOKEN)
    case = sending_factories.case_on(
        found_by,
        owner=owner,
        of=of,
        platform=platform,
        external_id=post.external_id,
        thread_id=post.thread_id,
        url=f"https://www.youtube.com/watch?lc={post.external_id}",
    )
    return case, post


def _simulated(simulator, platform: str, external_id: str) -> dict:
    """What the simulator says was done to the post (its control API, over HTTP)."""
    answer = requests.get(f"{simulator.base_url}/_control/moderation", timeout=5)
    for post in answer.json()["posts"]:
        if post["platform"] == platform and post["external_id"] == external_id:
            return post
    return {"hidden": False, "deleted": False, "history": []}


def test_hiding_goes_through_the_platform_and_showing_again_reverses_it(
    simulator, world, monkeypatch, cm, care
):
    incident_on_youtube, post = _on_the_platform(simulator, world, monkeypatch, owner=cm, of=care)
    mention = incident_on_youtube.first_mention
    hide = _ask(cm, incident_on_youtube, ModerationAction.HIDE, mention=mention)
    assert moderation.platform_write(mention, "hide") is not None
    assert moderation.carry_out_moderation(request_id=hide.pk, now=LATER) == ModerationState.DONE
    hide.refresh_from_db()
    assert (hide.state, hide.done_by_hand) == (ModerationState.DONE, False)
    assert _simulated(simulator, "youtube", post.external_id)["hidden"] is True

    unhide = _ask(
        cm,
        incident_on_youtube,
        ModerationAction.UNHIDE,
        mention=mention,
        justification="The author apologised; it can be seen again.",
    )
    assert unhide.reverses == hide
    assert moderation.carry_out_moderation(request_id=unhide.pk, now=LATER) == ModerationState.DONE
    shown = _simulated(simulator, "youtube", post.external_id)
    assert shown["hidden"] is False
    assert [step["action"] for step in shown["history"]] == ["hide", "unhide"]
    assert (
        moderation.platform_statuses([mention.pk])[mention.pk] == moderation.PlatformStatus.VISIBLE
    )
    # Done twice (a duplicated task) changes nothing more on the platform.
    assert moderation.carry_out_moderation(request_id=unhide.pk, now=LATER) == ModerationState.DONE
    assert len(_simulated(simulator, "youtube", post.external_id)["history"]) == 2


def test_deleting_goes_through_the_platform_once_approved_and_the_mention_stays(
    simulator, world, monkeypatch, cm, care, boss
):
    incident_on_youtube, post = _on_the_platform(simulator, world, monkeypatch, owner=cm, of=care)
    mention = incident_on_youtube.first_mention
    delete = _ask(cm, incident_on_youtube, ModerationAction.DELETE, mention=mention)
    # Not approved yet: the task leaves it alone.
    assert moderation.carry_out_moderation(request_id=delete.pk, now=LATER) == "requested"
    assert _simulated(simulator, "youtube", post.external_id)["deleted"] is False
    moderation.approve_moderation(actor=boss, request=delete, now=LATER)
    assert moderation.carry_out_moderation(request_id=delete.pk, now=LATER) == ModerationState.DONE
    assert _simulated(simulator, "youtube", post.external_id)["deleted"] is True
    assert Mention.objects.filter(pk=mention.pk, text=mention.text).exists()
    assert AuditEvent.objects.filter(
        verb="moderation.done", object_id=str(delete.pk), actor__isnull=True
    ).exists()


def test_deleting_where_the_platform_cannot_is_done_by_hand(simulator, cm, care, boss):
    found_by = sending_factories.source("mastodon")
    sending_factories.account("mastodon", sources=(found_by,))
    on_mastodon = sending_factories.case_on(found_by, owner=cm, of=care)
    delete = _ask(cm, on_mastodon, ModerationAction.DELETE)
    moderation.approve_moderation(actor=boss, request=delete, now=LATER)
    assert moderation.platform_write(on_mastodon.first_mention, "delete") is None
    assert moderation.carry_out_moderation(request_id=delete.pk, now=LATER) == "by_hand"
    delete.refresh_from_db()
    assert delete.state == ModerationState.APPROVED
    moderation.mark_moderation_done_by_hand(actor=cm, request=delete, now=LATER)
    delete.refresh_from_db()
    assert (delete.state, delete.done_by_hand) == (ModerationState.DONE, True)
    assert simulator.writes.moderation() == []  # nothing reached the platform


def test_a_platform_failure_is_retried_then_shown_with_a_retry(
    simulator, world, monkeypatch, cm, care, django_capture_on_commit_callbacks
):
    incident_on_youtube, post = _on_the_platform(simulator, world, monkeypatch, owner=cm, of=care)
    hide = _ask(cm, incident_on_youtube, mention=incident_on_youtube.first_mention)
    simulator.add_fault("500", "youtube", count=2)
    with pytest.raises(TransientError):
        moderation.carry_out_moderation(request_id=hide.pk, now=LATER, final_attempt=False)
    hide.refresh_from_db()
    assert hide.state == ModerationState.APPROVED
    assert "500" in hide.last_error
    with django_capture_on_commit_callbacks(execute=True):
        moderation.carry_out_moderation(request_id=hide.pk, now=LATER, final_attempt=True)
    hide.refresh_from_db()
    assert hide.state == ModerationState.FAILED
    assert AuditEvent.objects.filter(verb="moderation.failed", object_id=str(hide.pk)).exists()
    assert Notification.objects.filter(user=cm, kind=NotificationKind.MODERATION_DECIDED).exists()
    moderation.retry_moderation(actor=cm, request=hide, now=LATER)
    assert moderation.carry_out_moderation(request_id=hide.pk, now=LATER) == ModerationState.DONE
    assert _simulated(simulator, "youtube", post.external_id)["hidden"] is True


def test_a_refusal_by_the_platform_fails_at_once(simulator, world, monkeypatch, cm, care):
    incident_on_youtube, _post = _on_the_platform(simulator, world, monkeypatch, owner=cm, of=care)
    mention = incident_on_youtube.first_mention
    Mention.objects.filter(pk=mention.pk).update(external_id="no-such-comment")
    hide = _ask(cm, incident_on_youtube, mention=mention)
    state = moderation.carry_out_moderation(request_id=hide.pk, now=LATER, final_attempt=False)
    assert state == ModerationState.FAILED
    hide.refresh_from_db()
    assert hide.last_error


def test_the_sweep_queues_again_only_what_calma_can_carry_out(
    simulator, world, monkeypatch, cm, care, redis_client
):
    incident_on_youtube, _post = _on_the_platform(simulator, world, monkeypatch, owner=cm, of=care)
    lost = _ask(cm, incident_on_youtube, mention=incident_on_youtube.first_mention)
    found_by = sending_factories.source("mastodon")
    by_hand = _ask(cm, sending_factories.case_on(found_by, owner=cm, of=care))
    assert {lost.state, by_hand.state} == {ModerationState.APPROVED}
    assert moderation.sweep_approved_moderation(now=NOW + timedelta(minutes=1)) == 0  # too early
    assert moderation.sweep_approved_moderation(now=NOW + timedelta(minutes=10)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_needing_no_approval_is_carried_out_by_the_worker(
    simulator, world, monkeypatch, celery_worker
):
    care = team("Care")
    owner = manager("cm-worker", of=care)
    incident_on_youtube, post = _on_the_platform(
        simulator, world, monkeypatch, owner=owner, of=care
    )
    hide = _ask(owner, incident_on_youtube, mention=incident_on_youtube.first_mention)
    _wait_until(lambda: ModerationRequest.objects.get(pk=hide.pk).state == ModerationState.DONE)
    assert _simulated(simulator, "youtube", post.external_id)["hidden"] is True


def _wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("the worker did not carry out the request in time")
