"""The post-mortem's services: starting it once the crisis is resolved, writing it (the room's
workers and supervisors, never executives), refreshing its impact, follow-up items tracked
until done, completing it (the commander or a supervisor; the figures freeze and the crisis
closes), the protocol draft it proposes and that draft's backtest on the crisis's own
mentions (a draft that lowers the high threshold suggests the crisis earlier and turns
medium mentions high)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from crisis.models import AuditEvent
from crisis.rooms import backtest, postmortem
from crisis.rooms.crises import CrisisError
from crisis.rooms.models import CabinetRole, CrisisStatus, PostMortemState
from crisis.rooms.tasks_postmortem import run_crisis_backtest
from protocols import services as protocol_services
from protocols.models import CrisisSuggestion, ProtocolStatus
from protocols.schema import upgrade
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import NOW
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, seat
from tests.rooms.postmortem_fixtures import on_topics, resolve

pytestmark = pytest.mark.django_db

DECLARED = NOW  # 10:00
RESOLVED = NOW + timedelta(hours=4)
LATER = RESOLVED + timedelta(days=1)


@pytest.fixture
def crisis():
    return resolve(a_crisis(topics=("billing",), declared_at=DECLARED), RESOLVED)


@pytest.fixture
def member(crisis):
    person = cabinet_member_user("legal-ana")
    seat(crisis, person, "legal", CabinetRole.MEMBER)
    return person


@pytest.fixture
def started(crisis):
    return postmortem.start_post_mortem(actor=crisis.commander, crisis=crisis, now=LATER)


def verbs(crisis) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="rooms.crisis", object_id=str(crisis.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- Starting ----------------------------------------------------------------------------------


def test_a_cabinet_member_starts_the_post_mortem_of_a_resolved_crisis(crisis, member):
    on_topics(at=DECLARED - timedelta(minutes=30), severity="high")
    started = postmortem.start_post_mortem(actor=member, crisis=crisis, now=LATER)
    assert started.state == PostMortemState.DRAFT
    assert started.created_by == member
    assert started.impact["mentions"] == 1
    assert started.impact_computed_at == LATER
    assert "crisis.post_mortem.start" in verbs(crisis)
    again = postmortem.start_post_mortem(actor=crisis.commander, crisis=crisis, now=LATER)
    assert again.pk == started.pk


def test_an_open_crisis_has_no_post_mortem_yet():
    active = a_crisis(topics=("billing",), declared_at=DECLARED)
    with pytest.raises(CrisisError):
        postmortem.start_post_mortem(actor=active.commander, crisis=active, now=LATER)


@pytest.mark.parametrize("who", ["executive", "manager", "outsider"])
def test_people_outside_the_room_do_not_start_it(crisis, who, executive, manager):
    person = {"executive": executive, "manager": manager}.get(who) or cabinet_member_user("out")
    with pytest.raises(PermissionDenied):
        postmortem.start_post_mortem(actor=person, crisis=crisis, now=LATER)


# --- Writing -----------------------------------------------------------------------------------


def test_members_write_the_post_mortem_and_the_audit_names_the_fields(started, member):
    postmortem.update_post_mortem(
        actor=member,
        post_mortem=started,
        now=LATER,
        summary="Cards were charged twice for two hours.",
        root_cause="A retried payment job had no idempotency key.\x00",
        what_worked="",
    )
    started.refresh_from_db()
    assert started.summary == "Cards were charged twice for two hours."
    assert started.root_cause == "A retried payment job had no idempotency key."
    event = AuditEvent.objects.get(verb="crisis.post_mortem.edit")
    assert event.after["fields"] == ["summary", "root_cause"]
    assert event.object_id == str(started.crisis_id)


def test_an_executive_reads_but_does_not_write(started, executive):
    with pytest.raises(PermissionDenied):
        postmortem.update_post_mortem(actor=executive, post_mortem=started, now=LATER, summary="x")
    assert postmortem.can_write(executive, started) is False


def test_a_supervisor_outside_the_cabinet_writes(started):
    postmortem.update_post_mortem(
        actor=crisis_supervisor("another-boss"), post_mortem=started, now=LATER, summary="ok"
    )
    started.refresh_from_db()
    assert started.summary == "ok"


def test_refreshing_the_impact_recomputes_it(started):
    assert started.impact["mentions"] == 0
    on_topics(at=DECLARED + timedelta(minutes=5), severity="high")
    refreshed = postmortem.refresh_impact(
        actor=started.crisis.commander, post_mortem=started, now=LATER + timedelta(hours=1)
    )
    assert refreshed.impact["mentions"] == 1
    assert refreshed.impact_computed_at == LATER + timedelta(hours=1)


# --- Follow-up items ---------------------------------------------------------------------------


def test_follow_up_items_have_an_owner_and_a_due_date_and_are_tracked_until_done(started, member):
    item = postmortem.add_follow_up_item(
        actor=started.crisis.commander,
        post_mortem=started,
        title="Idempotency key on the payment job",
        owner=member,
        due_on=date(2026, 3, 20),
        now=LATER,
    )
    assert item.owner == member
    assert postmortem.can_mark_done(member, item)
    done = postmortem.mark_follow_up_done(actor=member, item=item, now=LATER)
    assert done.done_at == LATER
    with pytest.raises(CrisisError):
        postmortem.mark_follow_up_done(actor=member, item=item, now=LATER)
    assert verbs(started.crisis)[-2:] == [
        "crisis.post_mortem.item_add",
        "crisis.post_mortem.item_done",
    ]


def test_an_item_owner_must_sit_in_the_cabinet_or_supervise(started, manager):
    with pytest.raises(CrisisError):
        postmortem.add_follow_up_item(
            actor=started.crisis.commander,
            post_mortem=started,
            title="x",
            owner=manager,
            due_on=date(2026, 3, 20),
            now=LATER,
        )


def test_an_item_due_decades_ahead_is_refused(started):
    with pytest.raises(CrisisError):
        postmortem.add_follow_up_item(
            actor=started.crisis.commander,
            post_mortem=started,
            title="x",
            owner=started.crisis.commander,
            due_on=date(2070, 1, 1),
            now=LATER,
        )


def test_an_executive_does_not_mark_an_item_done(started, executive, member):
    item = postmortem.add_follow_up_item(
        actor=member,
        post_mortem=started,
        title="x",
        owner=member,
        due_on=date(2026, 3, 20),
        now=LATER,
    )
    with pytest.raises(PermissionDenied):
        postmortem.mark_follow_up_done(actor=executive, item=item, now=LATER)


# --- Completing --------------------------------------------------------------------------------


def test_completing_needs_a_summary_and_a_root_cause(started):
    with pytest.raises(CrisisError, match="summary"):
        postmortem.complete_post_mortem(
            actor=started.crisis.commander, post_mortem=started, now=LATER
        )


def test_only_the_commander_or_a_supervisor_completes(started, member):
    postmortem.update_post_mortem(
        actor=member, post_mortem=started, now=LATER, summary="s", root_cause="r"
    )
    with pytest.raises(PermissionDenied):
        postmortem.complete_post_mortem(actor=member, post_mortem=started, now=LATER)


def test_completing_freezes_the_figures_and_closes_the_crisis(started, member):
    crisis = started.crisis
    postmortem.update_post_mortem(
        actor=member, post_mortem=started, now=LATER, summary="s", root_cause="r"
    )
    item = postmortem.add_follow_up_item(
        actor=member,
        post_mortem=started,
        title="x",
        owner=member,
        due_on=date(2026, 3, 20),
        now=LATER,
    )
    on_topics(at=DECLARED + timedelta(minutes=5), severity="high")
    done = postmortem.complete_post_mortem(
        actor=crisis.commander, post_mortem=started, now=LATER + timedelta(hours=2)
    )
    assert done.state == PostMortemState.DONE
    assert done.completed_at == LATER + timedelta(hours=2)
    assert done.impact["mentions"] == 1  # computed a last time
    crisis.refresh_from_db()
    assert crisis.status == CrisisStatus.POST_MORTEM_DONE
    event = AuditEvent.objects.get(verb="crisis.post_mortem.complete")
    assert event.after["open_items"] == 1
    with pytest.raises(CrisisError):
        postmortem.refresh_impact(actor=crisis.commander, post_mortem=done, now=LATER)
    with pytest.raises(CrisisError):
        postmortem.update_post_mortem(actor=member, post_mortem=done, now=LATER, summary="new")
    # Items stay tracked until done.
    postmortem.mark_follow_up_done(actor=member, item=item, now=LATER)


def test_a_reactivated_crisis_cannot_complete_its_post_mortem(started):
    crisis = started.crisis
    postmortem.update_post_mortem(
        actor=crisis.commander, post_mortem=started, now=LATER, summary="s", root_cause="r"
    )
    crisis.status = CrisisStatus.ACTIVE
    crisis.save()
    with pytest.raises(CrisisError):
        postmortem.complete_post_mortem(actor=crisis.commander, post_mortem=started, now=LATER)


# --- The protocol draft ------------------------------------------------------------------------


def test_a_supervisor_turns_the_post_mortem_into_a_protocol_draft(started):
    boss = started.crisis.commander
    draft = postmortem.create_protocol_draft_from_post_mortem(
        actor=boss, post_mortem=started, now=LATER
    )
    assert draft.status == ProtocolStatus.DRAFT
    assert draft.based_on == started.crisis.protocol_version
    assert f"/crises/{started.crisis_id}/post-mortem/" in draft.notes
    assert started.crisis.title in draft.name
    started.refresh_from_db()
    assert started.protocol_draft == draft
    assert "crisis.post_mortem.protocol_draft" in verbs(started.crisis)
    # Asked again while it is a draft: the same one.
    again = postmortem.create_protocol_draft_from_post_mortem(
        actor=boss, post_mortem=started, now=LATER
    )
    assert again.pk == draft.pk


def test_a_cabinet_member_cannot_create_the_protocol_draft(started, member):
    with pytest.raises(PermissionDenied):
        postmortem.create_protocol_draft_from_post_mortem(
            actor=member, post_mortem=started, now=LATER
        )


# --- The backtest on the crisis ----------------------------------------------------------------

MEDIUM_TEXT = "Me habéis cobrado dos veces #cobros"  # 45 with 100 followers: medium
HIGH_FOLLOWERS = 100_000  # the same text scores 65: high


@pytest.fixture
def cobros():
    """Phase 1 (08:00-08:20): five complaints the active protocol scores medium (45); phase 2
    (09:00-09:20): five it scores high (65); the crisis declared at 10:00 on #cobros, with a
    week of quiet history before."""
    for day in range(1, 7):
        on_topics(
            ("__all__", "cobros"),
            at=DECLARED - timedelta(days=day, hours=2),
            severity="low",
            text="hola #cobros",
        )
    for index in range(5):
        on_topics(
            ("__all__", "cobros"),
            at=DECLARED - timedelta(minutes=120 - 5 * index),
            severity="medium",
            text=MEDIUM_TEXT,
        )
        on_topics(
            ("__all__", "cobros"),
            at=DECLARED - timedelta(minutes=60 - 5 * index),
            severity="high",
            text=MEDIUM_TEXT,
            followers=HIGH_FOLLOWERS,
        )
    crisis = a_crisis(title="Cobros dobles", topics=("cobros",), declared_at=DECLARED)
    crisis.suggestion = CrisisSuggestion.objects.create(
        topic="cobros",
        reason=CrisisSuggestion.Reason.INCIDENTS,
        protocol_version=active_version(),
        raised_at=DECLARED - timedelta(minutes=38),
    )
    crisis.save()
    resolve(crisis, RESOLVED)
    return postmortem.start_post_mortem(actor=crisis.commander, crisis=crisis, now=LATER)


def lower_high_threshold(post_mortem, to: int = 40):
    boss = post_mortem.crisis.commander
    draft = postmortem.create_protocol_draft_from_post_mortem(
        actor=boss, post_mortem=post_mortem, now=LATER
    )
    thresholds = dict(upgrade(draft.config)["severity_thresholds"], high=to)
    protocol_services.update_draft(
        actor=boss, version=draft, section="severity_thresholds", value=thresholds
    )
    post_mortem.refresh_from_db()
    return draft


def test_the_backtest_shows_the_draft_would_have_suggested_the_crisis_earlier(cobros):
    draft = lower_high_threshold(cobros)
    done = backtest.start_crisis_backtest(
        actor=cobros.crisis.commander, post_mortem=cobros, now=LATER
    )
    result = done.backtest
    assert result["status"] == "done"
    assert result["draft"]["number"] == draft.number
    assert result["original"]["number"] == active_version().number
    # Threshold: 5 high or critical mentions on one topic in 30 minutes.
    assert result["suggested"]["original"] == (DECLARED - timedelta(minutes=40)).isoformat()
    assert result["suggested"]["draft"] == (DECLARED - timedelta(minutes=100)).isoformat()
    assert result["suggested"]["original_by"] == "cobros"
    assert result["minutes_earlier"] == 60.0
    assert result["changed"] == 5
    assert result["changed_before_crisis"] == 5  # phase 1 came before the first serious one
    assert result["severity_moves"] == {"medium>high": 5}
    assert [change["after"]["severity"] for change in result["changed_mentions"]] == ["high"] * 5
    assert result["mentions"] == 16
    assert result["crisis_mentions"] == 5
    assert result["history_mentions"] == 11
    assert "crisis.post_mortem.backtest" in verbs(cobros.crisis)


def test_an_unchanged_draft_changes_nothing_and_suggests_at_the_same_time(cobros):
    postmortem.create_protocol_draft_from_post_mortem(
        actor=cobros.crisis.commander, post_mortem=cobros, now=LATER
    )
    cobros.refresh_from_db()
    result = backtest.start_crisis_backtest(
        actor=cobros.crisis.commander, post_mortem=cobros, now=LATER
    ).backtest
    assert result["changed"] == 0
    assert result["minutes_earlier"] == 0.0


def test_the_backtest_needs_the_draft_and_a_protocol_editor(cobros, member_of_cobros):
    with pytest.raises(CrisisError):
        backtest.start_crisis_backtest(actor=cobros.crisis.commander, post_mortem=cobros, now=LATER)
    lower_high_threshold(cobros)
    with pytest.raises(PermissionDenied):
        backtest.start_crisis_backtest(actor=member_of_cobros, post_mortem=cobros, now=LATER)


@pytest.fixture
def member_of_cobros(cobros):
    person = cabinet_member_user("cobros-member")
    seat(cobros.crisis, person)
    return person


def test_a_large_backtest_is_queued_and_run_once_by_the_task(
    cobros, monkeypatch, django_capture_on_commit_callbacks
):
    lower_high_threshold(cobros)
    monkeypatch.setattr(backtest, "SYNC_LIMIT", 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = backtest.start_crisis_backtest(
            actor=cobros.crisis.commander, post_mortem=cobros, now=LATER
        )
    assert queued.backtest["status"] == "queued"
    assert len(callbacks) == 1
    assert backtest.in_progress(queued.backtest, now=LATER)
    # Asked again while it is queued: nothing more is queued.
    with django_capture_on_commit_callbacks(execute=False) as again:
        backtest.start_crisis_backtest(actor=cobros.crisis.commander, post_mortem=cobros, now=LATER)
    assert again == []

    assert run_crisis_backtest(cobros.pk) == "done"
    assert run_crisis_backtest(cobros.pk) == "skipped"  # a second delivery
    cobros.refresh_from_db()
    assert cobros.backtest["minutes_earlier"] == 60.0


def test_a_backtest_lost_with_its_worker_is_taken_again_once_stale(cobros):
    lower_high_threshold(cobros)
    cobros.backtest = {"status": "running", "started_at": LATER.isoformat()}
    cobros.save()
    assert backtest.run_queued_backtest(cobros.pk, now=LATER + timedelta(minutes=5)) == "skipped"
    later = LATER + backtest.STALE_AFTER + timedelta(minutes=1)
    assert not backtest.in_progress(cobros.backtest, now=later)
    assert backtest.run_queued_backtest(cobros.pk, now=later) == "done"


def test_the_replay_is_capped_keeping_the_newest_mentions(cobros, monkeypatch):
    lower_high_threshold(cobros)
    monkeypatch.setattr(backtest, "MAX_MENTIONS", 10)
    result = backtest.run_crisis_backtest(cobros, now=LATER)
    assert result["mentions"] == 10
    assert result["left_out"] == 6
    assert result["crisis_mentions"] == 5


def test_a_backtest_for_someone_who_cannot_see_the_crisis_is_refused(cobros):
    lower_high_threshold(cobros)
    other = UserFactory(username="other-exec-editor")
    with pytest.raises(PermissionDenied):
        backtest.start_crisis_backtest(actor=other, post_mortem=cobros, now=LATER)


def test_the_backtest_task_carries_the_name_the_room_uses():
    import crisis.rooms.tasks  # noqa: F401  (what Celery's autodiscovery imports)
    from crisis.celery import app

    assert run_crisis_backtest.name == "crisis.rooms.tasks.run_crisis_backtest"
    assert run_crisis_backtest.name in app.tasks
