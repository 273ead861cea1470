"""The crisis's one public statement: versions, four-eyes approval (a supervisor other than the
author, plus the cabinet's legal member at level 3, never one person for both), edits that go
back to approval, channel limits, send back, discard, history diff, the update cadence and its
notification, and commitments that become tasks of the plan."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.rooms import statement as statements
from crisis.rooms.models import (
    CabinetRole,
    CrisisStatus,
    Publication,
    PublicationState,
    StatementState,
    StatementVersion,
    Task,
    TaskStatus,
)
from crisis.rooms.statement import StaleStatement, StatementError
from tests.incidents.factories import NOW
from tests.rooms.factories import a_crisis, cabinet_member_user, crisis_supervisor, seat

pytestmark = pytest.mark.django_db

TEXT = (
    "Since 9:00 a billing fault charged some customers twice. Refunds by Friday. "
    "We are sorry, and we will tell you here as soon as it is fixed."
)
LATER = NOW + timedelta(minutes=10)


@pytest.fixture
def crisis():
    return a_crisis(level=2, commander=crisis_supervisor("commander-boss"))


@pytest.fixture
def spokesperson(crisis):
    person = cabinet_member_user("spoke")
    seat(crisis, person, "communications", CabinetRole.SPOKESPERSON)
    return person


@pytest.fixture
def approver(db):
    return crisis_supervisor("approver-boss")


@pytest.fixture
def lawyer(crisis):
    person = cabinet_member_user("lawyer")
    seat(crisis, person, "legal", CabinetRole.MEMBER)
    return person


def drafted(crisis, author, text=TEXT, channel_texts=None):
    version = statements.start_statement_version(actor=author, crisis=crisis, now=NOW)
    return statements.save_statement(
        actor=author, version=version, text=text, channel_texts=channel_texts or {}, now=NOW
    )


def submitted(crisis, author, **kwargs):
    version = drafted(crisis, author, **kwargs)
    return statements.submit_statement(actor=author, version=version, now=NOW)


def approved(crisis, author, approver, **kwargs):
    version = submitted(crisis, author, **kwargs)
    return statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)


def verbs(crisis) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="rooms.crisis", object_id=str(crisis.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )


# --- Versions ------------------------------------------------------------------------------------
def test_spokesperson_starts_the_first_version_empty(crisis, spokesperson):
    version = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    assert version.number == 1 and version.state == StatementState.DRAFT
    assert version.text == "" and version.channel_texts == {}
    assert version.author == spokesperson
    assert verbs(crisis) == ["crisis.statement_draft"]


def test_an_update_starts_from_the_approved_text_and_channel_texts(crisis, spokesperson, approver):
    first = approved(
        crisis, spokesperson, approver, channel_texts={"bluesky": "Refunds by Friday."}
    )
    update = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=LATER)
    assert update.number == 2
    assert update.text == first.text
    assert update.channel_texts == {"bluesky": "Refunds by Friday."}


def test_one_version_open_at_a_time(crisis, spokesperson):
    statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    with pytest.raises(StatementError, match="Version 1"):
        statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)


@pytest.mark.parametrize("who", ["member", "executive", "other_crisis", "manager"])
def test_only_who_speaks_drafts(crisis, who, executive, manager):
    person = {
        "member": cabinet_member_user("plain-member"),
        "executive": executive,
        "other_crisis": cabinet_member_user("elsewhere"),
        "manager": manager,
    }[who]
    if who == "member":
        seat(crisis, person, "customer_service", CabinetRole.MEMBER)
    if who == "other_crisis":
        other = a_crisis(title="Another crisis", commander=crisis.commander)
        seat(other, person, "communications", CabinetRole.SPOKESPERSON)
    with pytest.raises(PermissionDenied):
        statements.start_statement_version(actor=person, crisis=crisis, now=NOW)
    assert not StatementVersion.objects.exists()


def test_commander_and_supervisors_draft_too(crisis, approver):
    version = statements.start_statement_version(actor=crisis.commander, crisis=crisis, now=NOW)
    statements.discard_statement_version(actor=approver, version=version, now=NOW)
    assert statements.start_statement_version(actor=approver, crisis=crisis, now=NOW).number == 1


def test_a_resolved_crisis_statement_no_longer_changes(spokesperson, crisis):
    crisis.status = CrisisStatus.RESOLVED
    crisis.save()
    with pytest.raises(StatementError, match="resolved"):
        statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)


def test_save_is_revision_checked(crisis, spokesperson):
    version = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    saved = statements.save_statement(
        actor=spokesperson, version=version, text="One", channel_texts={}, now=NOW,
        expected_revision=1,
    )  # fmt: skip
    assert saved.revision == 2
    with pytest.raises(StaleStatement) as stale:
        statements.save_statement(
            actor=spokesperson, version=version, text="Two", channel_texts={}, now=NOW,
            expected_revision=1,
        )  # fmt: skip
    assert stale.value.current_revision == 2
    version.refresh_from_db()
    assert version.text == "One"
    # Saving what is stored is no change and no conflict.
    same = statements.save_statement(
        actor=spokesperson, version=version, text="One", channel_texts={}, now=NOW,
        expected_revision=1,
    )  # fmt: skip
    assert same.revision == 2


def test_channel_texts_keep_only_the_protocols_channels_and_drop_empty_ones(crisis, spokesperson):
    version = drafted(
        crisis,
        spokesperson,
        channel_texts={"bluesky": "  Short  ", "mastodon": "   ", "myspace": "no such channel"},
    )
    assert version.channel_texts == {"bluesky": "Short"}


def test_text_without_nul_and_bounded(crisis, spokesperson):
    version = drafted(crisis, spokesperson, text="Hola\x00 mundo\r\n")
    assert version.text == "Hola mundo\n"
    with pytest.raises(StatementError, match="at most"):
        statements.save_statement(
            actor=spokesperson, version=version, text="x" * 20_001, channel_texts={}, now=NOW
        )


# --- Channel limits ---------------------------------------------------------------------------
def test_bluesky_takes_300_characters(crisis, spokesperson):
    long_text = "A" * 350  # fits Mastodon (500), not Bluesky (300)
    version = drafted(crisis, spokesperson, text=long_text)
    with pytest.raises(StatementError, match="Bluesky takes at most 300"):
        statements.submit_statement(actor=spokesperson, version=version, now=NOW)
    version = statements.save_statement(
        actor=spokesperson, version=version, text=long_text,
        channel_texts={"bluesky": "B" * 301}, now=NOW,
    )  # fmt: skip
    with pytest.raises(StatementError, match="Bluesky has 301 characters"):
        statements.submit_statement(actor=spokesperson, version=version, now=NOW)
    version = statements.save_statement(
        actor=spokesperson, version=version, text=long_text,
        channel_texts={"bluesky": "B" * 300}, now=NOW,
    )  # fmt: skip
    version = statements.submit_statement(actor=spokesperson, version=version, now=NOW)
    assert version.state == StatementState.AWAITING_APPROVAL
    texts = {
        t.channel.key: t for t in statements.channel_texts(version, statements.channels_of(crisis))
    }
    assert texts["mastodon"].same_as_main and texts["mastodon"].length == 350
    assert not texts["bluesky"].same_as_main and texts["bluesky"].length == 300
    assert not any(t.over_limit for t in texts.values())


def test_an_empty_statement_is_not_submitted(crisis, spokesperson):
    version = drafted(crisis, spokesperson, text="   ")
    with pytest.raises(StatementError, match="Write the statement"):
        statements.submit_statement(actor=spokesperson, version=version, now=NOW)


# --- Four eyes ----------------------------------------------------------------------------------
def test_author_cannot_approve_their_own_statement(crisis, approver):
    version = submitted(crisis, approver)  # a supervisor drafted it
    with pytest.raises(PermissionDenied, match="drafted"):
        statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    version.refresh_from_db()
    assert version.state == StatementState.AWAITING_APPROVAL
    assert not version.approvals.exists()


def test_a_supervisor_other_than_the_author_approves(crisis, spokesperson, approver):
    version = submitted(crisis, spokesperson)
    assert version.approvers_required == ["supervisor"]
    version = statements.approve_statement(
        actor=approver, version=version, role="supervisor", now=LATER, expected_revision=2
    )
    assert version.state == StatementState.APPROVED and version.approved_at == LATER
    channels = [channel.key for channel in statements.channels_of(crisis)]
    assert sorted(
        Publication.objects.filter(version=version).values_list("channel", flat=True)
    ) == (sorted(channels))
    assert set(Publication.objects.values_list("state", flat=True)) == {PublicationState.PENDING}
    assert verbs(crisis)[-2:] == ["crisis.statement_approval", "crisis.statement_approved"]


@pytest.mark.parametrize("who", ["spokesperson", "lawyer", "executive", "member"])
def test_only_a_supervisor_gives_the_supervisor_approval(
    crisis, spokesperson, lawyer, executive, who
):
    version = submitted(crisis, crisis.commander)
    person = {"spokesperson": spokesperson, "lawyer": lawyer, "executive": executive}.get(who)
    if who == "member":
        person = cabinet_member_user("member")
        seat(crisis, person, "customer_service")
    with pytest.raises(PermissionDenied):
        statements.approve_statement(actor=person, version=version, role="supervisor", now=NOW)


def test_level_3_needs_the_cabinets_legal_member_too(spokesperson, approver, lawyer, crisis):
    crisis.level = 3
    crisis.save()
    version = submitted(crisis, spokesperson)
    assert version.approvers_required == ["supervisor", "legal"]
    version = statements.approve_statement(
        actor=approver, version=version, role="supervisor", now=NOW
    )
    assert version.state == StatementState.AWAITING_APPROVAL
    assert statements.missing_roles(version) == ["legal"]
    version = statements.approve_statement(actor=lawyer, version=version, role="legal", now=LATER)
    assert version.state == StatementState.APPROVED


def test_level_2_needs_no_legal_approval(crisis, spokesperson, lawyer):
    version = submitted(crisis, spokesperson)
    with pytest.raises(StatementError, match="legal"):
        statements.approve_statement(actor=lawyer, version=version, role="legal", now=NOW)


def test_legal_approval_only_from_an_active_legal_seat_of_this_crisis(
    spokesperson, approver, crisis
):
    crisis.level = 3
    crisis.save()
    version = submitted(crisis, spokesperson)
    elsewhere = cabinet_member_user("lawyer-elsewhere")
    seat(a_crisis(title="Other", commander=crisis.commander), elsewhere, "legal")
    not_legal = cabinet_member_user("comms")
    seat(crisis, not_legal, "communications")
    removed = cabinet_member_user("former-lawyer")
    seat(crisis, removed, "legal").delete()
    for person in (elsewhere, not_legal, removed, approver):
        with pytest.raises(PermissionDenied):
            statements.approve_statement(actor=person, version=version, role="legal", now=NOW)
    assert not version.approvals.exists()


def test_the_same_person_cannot_give_both_approvals(spokesperson, approver, crisis):
    crisis.level = 3
    crisis.save()
    seat(crisis, approver, "legal")  # a supervisor who also sits for legal
    version = submitted(crisis, spokesperson)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    with pytest.raises(PermissionDenied, match="both"):
        statements.approve_statement(actor=approver, version=version, role="legal", now=NOW)
    version.refresh_from_db()
    assert version.state == StatementState.AWAITING_APPROVAL


def test_a_legal_spokesperson_cannot_approve_their_own_draft_as_legal(approver, lawyer, crisis):
    crisis.level = 3
    crisis.save()
    legal_voice = cabinet_member_user("legal-voice")
    seat(crisis, legal_voice, "legal", CabinetRole.SPOKESPERSON)
    version = submitted(crisis, legal_voice)
    with pytest.raises(PermissionDenied, match="drafted"):
        statements.approve_statement(actor=legal_voice, version=version, role="legal", now=NOW)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    statements.approve_statement(actor=lawyer, version=version, role="legal", now=NOW)
    version.refresh_from_db()
    assert version.state == StatementState.APPROVED


def test_an_approval_is_given_once_per_revision(crisis, spokesperson, approver):
    crisis.level = 3
    crisis.save()
    version = submitted(crisis, spokesperson)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    with pytest.raises(StatementError, match="already"):
        statements.approve_statement(
            actor=crisis.commander, version=version, role="supervisor", now=NOW
        )


def test_a_new_approved_version_supersedes_the_previous(crisis, spokesperson, approver):
    first = approved(crisis, spokesperson, approver)
    second = approved(crisis, spokesperson, approver, text=TEXT + " Update: fixed.")
    first.refresh_from_db()
    assert first.state == StatementState.SUPERSEDED
    assert second.state == StatementState.APPROVED
    assert statements.approved_version(crisis) == second


# --- Edits and send back ------------------------------------------------------------------------
def test_editing_while_awaiting_voids_the_approvals_given(crisis, spokesperson, approver, lawyer):
    crisis.level = 3
    crisis.save()
    version = submitted(crisis, spokesperson)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    version = statements.save_statement(
        actor=spokesperson, version=version, text=TEXT + " More.", channel_texts={}, now=LATER
    )
    assert version.state == StatementState.AWAITING_APPROVAL
    assert statements.missing_roles(version) == ["supervisor", "legal"]


def test_editing_an_approved_version_goes_back_to_approval(crisis, spokesperson, approver):
    first = approved(crisis, spokesperson, approver)
    second = approved(crisis, spokesperson, approver, text=TEXT + " Fixed at 14:00.")
    revision = second.revision
    second = statements.save_statement(
        actor=spokesperson, version=second, text=TEXT + " Fixed at 15:00.", channel_texts={},
        now=LATER, expected_revision=revision,
    )  # fmt: skip
    assert second.state == StatementState.AWAITING_APPROVAL
    assert second.revision == revision + 1 and second.approved_at is None
    assert not Publication.objects.filter(version=second).exists()
    first.refresh_from_db()
    assert first.state == StatementState.APPROVED  # in force again meanwhile
    assert statements.approved_version(crisis) == first
    second = statements.approve_statement(
        actor=approver, version=second, role="supervisor", now=LATER
    )
    first.refresh_from_db()
    assert second.state == StatementState.APPROVED and first.state == StatementState.SUPERSEDED


def test_an_approved_version_already_published_is_updated_by_a_new_version(
    crisis, spokesperson, approver
):
    version = approved(crisis, spokesperson, approver)
    Publication.objects.filter(version=version, channel="blog").update(
        state=PublicationState.PUBLISHED, url="https://blog.example/statement"
    )
    with pytest.raises(StatementError, match="already published"):
        statements.save_statement(
            actor=spokesperson, version=version, text=TEXT + " x", channel_texts={}, now=LATER
        )


def test_an_edit_that_breaks_a_limit_goes_back_to_draft(crisis, spokesperson, approver):
    version = submitted(crisis, spokesperson)
    version = statements.save_statement(
        actor=spokesperson, version=version, text="C" * 400, channel_texts={}, now=LATER
    )
    assert version.state == StatementState.DRAFT


def test_an_approver_sends_it_back_with_a_comment(crisis, spokesperson, approver):
    version = submitted(crisis, spokesperson)
    with pytest.raises(StatementError, match="Say what"):
        statements.send_back_statement(actor=approver, version=version, comment="  ", now=NOW)
    with pytest.raises(PermissionDenied):
        statements.send_back_statement(actor=spokesperson, version=version, comment="Mine", now=NOW)
    version = statements.send_back_statement(
        actor=approver, version=version, comment="Say when it will be fixed.", now=LATER
    )
    assert version.state == StatementState.DRAFT
    assert version.sent_back_comment == "Say when it will be fixed."
    assert version.approvals.get().decision == "sent_back"
    version = statements.submit_statement(actor=spokesperson, version=version, now=LATER)
    assert version.sent_back_comment == ""


def test_discarding_a_draft_deletes_it_and_audits_its_text(crisis, spokesperson, approver):
    version = drafted(crisis, spokesperson)
    statements.discard_statement_version(actor=spokesperson, version=version, now=NOW)
    assert not StatementVersion.objects.exists()
    event = AuditEvent.objects.filter(verb="crisis.statement_discard").get()
    assert event.after["text"] == TEXT and event.object_id == str(crisis.pk)
    kept = approved(crisis, spokesperson, approver)
    with pytest.raises(StatementError, match="history"):
        statements.discard_statement_version(actor=spokesperson, version=kept, now=NOW)


def test_every_step_is_audited_on_the_crisis(crisis, spokesperson, approver):
    version = submitted(crisis, spokesperson)
    statements.send_back_statement(actor=approver, version=version, comment="Shorter", now=NOW)
    statements.submit_statement(actor=spokesperson, version=version, now=NOW)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    assert verbs(crisis) == [
        "crisis.statement_draft",
        "crisis.statement_edit",
        "crisis.statement_submit",
        "crisis.statement_send_back",
        "crisis.statement_submit",
        "crisis.statement_approval",
        "crisis.statement_approved",
    ]
    approved_event = AuditEvent.objects.get(verb="crisis.statement_approved")
    assert approved_event.after["version"] == version.pk
    assert approved_event.after["approvers"] == {"supervisor": approver.pk}


# --- Notifications ------------------------------------------------------------------------------
def test_submitting_tells_the_supervisors_and_at_level_3_the_legal_member(
    crisis, spokesperson, approver, lawyer, django_capture_on_commit_callbacks
):
    crisis.level = 3
    crisis.save()
    with django_capture_on_commit_callbacks(execute=True):
        submitted(crisis, spokesperson)
    told = set(
        Notification.objects.filter(kind=NotificationKind.STATEMENT_APPROVAL).values_list(
            "user__username", flat=True
        )
    )
    assert told == {"commander-boss", "approver-boss", "lawyer"}


def test_autosaves_while_awaiting_tell_nobody_again(
    crisis, spokesperson, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        version = submitted(crisis, spokesperson)
        for n in range(3):
            version = statements.save_statement(
                actor=spokesperson, version=version, text=f"{TEXT} {n}", channel_texts={}, now=NOW
            )
    assert Notification.objects.filter(user=approver).count() == 1


# --- Update cadence ------------------------------------------------------------------------------
def test_the_next_update_is_due_a_cadence_after_the_approval(crisis, spokesperson, approver):
    due = statements.next_update_due(crisis, now=NOW)
    assert due.first and due.due_at == crisis.declared_at + timedelta(minutes=60)
    version = submitted(crisis, spokesperson)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=LATER)
    due = statements.next_update_due(crisis, now=LATER + timedelta(minutes=59))
    assert not due.first and not due.overdue
    assert due.due_at == LATER + timedelta(minutes=60)
    assert statements.next_update_due(crisis, now=LATER + timedelta(minutes=61)).overdue
    crisis.status = CrisisStatus.CONTAINED
    crisis.save()
    assert statements.next_update_due(crisis, now=LATER) is None


def test_the_spokesperson_is_told_once_per_due_time(crisis, spokesperson, approver):
    version = submitted(crisis, spokesperson)
    statements.approve_statement(actor=approver, version=version, role="supervisor", now=NOW)
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=59)) == 0
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=61)) == 1
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=75)) == 0
    due = Notification.objects.get(kind=NotificationKind.STATEMENT_UPDATE_DUE)
    assert due.user == spokesperson
    assert due.dedupe_key == f"crisis:{crisis.pk}:statement_update_due:{version.pk}"
    # An update approved resets the clock; its own due time tells again.
    update = approved(crisis, spokesperson, approver, text=TEXT + " Update.")
    statements.StatementVersion.objects.filter(pk=update.pk).update(
        approved_at=NOW + timedelta(minutes=80)
    )
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=100)) == 0
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=141)) == 1
    assert Notification.objects.filter(kind=NotificationKind.STATEMENT_UPDATE_DUE).count() == 2


def test_without_a_spokesperson_the_commander_is_told_of_the_first_statement(crisis):
    assert statements.notify_statement_updates_due(now=NOW + timedelta(minutes=61)) == 1
    due = Notification.objects.get(kind=NotificationKind.STATEMENT_UPDATE_DUE)
    assert due.user == crisis.commander
    assert due.dedupe_key.endswith(":first")


def test_no_update_is_due_once_the_crisis_is_contained(crisis, spokesperson):
    crisis.status = CrisisStatus.CONTAINED
    crisis.save()
    assert statements.notify_statement_updates_due(now=NOW + timedelta(days=1)) == 0


# --- Commitments --------------------------------------------------------------------------------
def test_a_commitment_becomes_a_task_of_the_plan(crisis, spokesperson, approver):
    version = approved(crisis, spokesperson, approver)
    friday = NOW + timedelta(days=3)
    commitment = statements.mark_commitment(
        actor=spokesperson,
        version=version,
        sentence="Refunds  by Friday.",  # spaces as a selection may carry them
        due_at=friday,
        owner=approver,
        now=LATER,
    )
    task = commitment.task
    assert task.title == "Commitment: Refunds  by Friday."
    assert task.crisis == crisis and task.due_at == friday and task.owner == approver
    assert task.status == TaskStatus.TODO and task.created_by == spokesperson
    assert commitment.version == version and commitment.due_at == friday
    event = AuditEvent.objects.get(verb="crisis.statement_commitment")
    assert event.object_id == str(crisis.pk)
    assert event.after["task"] == task.pk and event.after["commitment"] == commitment.pk


def test_a_commitment_must_quote_the_approved_statement(crisis, spokesperson, approver):
    version = approved(crisis, spokesperson, approver)
    due = NOW + timedelta(days=3)
    with pytest.raises(StatementError, match="part of version 1"):
        statements.mark_commitment(
            actor=spokesperson, version=version, sentence="Free phones for everyone",
            due_at=due, owner=spokesperson, now=NOW,
        )  # fmt: skip
    draft = statements.start_statement_version(actor=spokesperson, crisis=crisis, now=NOW)
    with pytest.raises(StatementError, match="approved"):
        statements.mark_commitment(
            actor=spokesperson, version=draft, sentence="Refunds by Friday.", due_at=due,
            owner=spokesperson, now=NOW,
        )  # fmt: skip
    with pytest.raises(StatementError, match="within the next year"):
        statements.mark_commitment(
            actor=spokesperson, version=version, sentence="Refunds by Friday.",
            due_at=NOW + timedelta(days=400), owner=spokesperson, now=NOW,
        )  # fmt: skip
    outsider = cabinet_member_user("outsider")
    with pytest.raises(StatementError, match="owner"):
        statements.mark_commitment(
            actor=spokesperson, version=version, sentence="Refunds by Friday.", due_at=due,
            owner=outsider, now=NOW,
        )  # fmt: skip
    member = cabinet_member_user("member")
    seat(crisis, member, "customer_service")
    with pytest.raises(PermissionDenied):
        statements.mark_commitment(
            actor=member, version=version, sentence="Refunds by Friday.", due_at=due,
            owner=member, now=NOW,
        )  # fmt: skip
    assert not Task.objects.exists()


# --- Diff ----------------------------------------------------------------------------------------
def test_diff_marks_words_added_and_removed_and_escapes_them():
    html = statements.diff_html("Refunds by Friday <b>.", "Refunds by Monday <b>, sorry.")
    assert "<del>Friday</del><ins>Monday</ins>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "<ins>, sorry</ins>" in html


def test_diff_of_identical_texts_has_no_marks():
    assert statements.diff_html("Same text.", "Same text.") == "Same text."
