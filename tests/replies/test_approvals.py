"""Approval of replies: who must approve (per severity, class and legal groups), four-eyes
(nobody approves their own draft or a text they edited; the legal approval comes from another
person), approvals hold for one revision, send back with a comment, escalation once per
revision, and the approval queue (counts, visibility, constant queries)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from crisis.replies import approvals, drafts, selectors
from crisis.replies.drafts import ReplyError, StaleRevision
from crisis.replies.models import Reply, ReplyApproval, ReplyState
from crisis.replies.tasks_drafts import escalate_waiting_approvals as escalation_task
from protocols import replies as rules
from protocols.schema import upgrade
from protocols.services import active_version
from tests.incidents.factories import NOW, manager, team
from tests.replies.helpers import case, legal_reviewer, make_supervisor, protocol

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)


@pytest.fixture
def cm():
    return manager("cm", of=team("Care"))


@pytest.fixture
def second_supervisor(db):
    return make_supervisor("boss2")


def _submitted(author, **case_options):
    incident = case(owner=author, **case_options)
    reply = drafts.start_draft(actor=author, incident=incident, now=NOW)
    return drafts.submit_draft(actor=author, reply=reply, now=NOW)


# --- Who must approve ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "triage_class", "groups", "expected"),
    [
        ("low", "question", (), []),
        ("medium", "question", (), []),
        ("medium", "complaint_no_reason", (), []),
        ("low", "complaint_company_fault", (), ["supervisor"]),  # an approval class
        ("medium", "complaint_company_fault", (), ["supervisor"]),
        ("high", "question", (), ["supervisor"]),  # the severity's policy
        ("critical", "praise", (), ["supervisor"]),
        ("low", "question", ("authority",), ["supervisor", "legal"]),
        ("medium", "praise", ("legal_threat",), ["supervisor", "legal"]),
        ("high", "question", ("health_safety",), ["supervisor"]),  # not a legal group
    ],
)
def test_the_protocol_names_who_approves(severity, triage_class, groups, expected):
    config = upgrade(active_version().config)
    assert (
        rules.approvers_required(
            config, severity=severity, triage_class=triage_class, keyword_groups=list(groups)
        )
        == expected
    )


def test_a_changed_protocol_changes_who_approves(cm):
    def no_approval_for_company_fault(config):
        config["replies"]["approval_classes"] = []
        config["policies"]["high"]["needs_approval"] = False

    version = protocol(no_approval_for_company_fault)
    assert _submitted(cm, version=version).state == ReplyState.APPROVED


# --- Four-eyes --------------------------------------------------------------------------------


def test_a_supervisor_cannot_approve_their_own_draft(supervisor, second_supervisor):
    reply = _submitted(supervisor)
    with pytest.raises(PermissionDenied, match="own draft"):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.AWAITING_APPROVAL
    assert not ReplyApproval.objects.exists()


def test_an_own_draft_waits_when_nobody_else_can_approve(supervisor):
    reply = _submitted(supervisor)
    with pytest.raises(PermissionDenied):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    assert Reply.objects.get().state == ReplyState.AWAITING_APPROVAL


def test_a_manager_cannot_approve(cm, supervisor):
    other = manager("cm2")
    reply = _submitted(cm)
    with pytest.raises(PermissionDenied):
        approvals.approve_reply(actor=other, reply=reply, now=LATER)


def test_another_supervisor_approves_and_the_author_is_told(
    cm, supervisor, django_capture_on_commit_callbacks
):
    reply = _submitted(cm)
    with django_capture_on_commit_callbacks(execute=True):
        approved = approvals.approve_reply(
            actor=supervisor, reply=reply, now=LATER, expected_revision=1
        )
    assert (approved.state, approved.approved_at) == (ReplyState.APPROVED, LATER)
    approved.incident.refresh_from_db()
    assert approved.incident.state == IncidentState.IN_PROGRESS
    note = Notification.objects.get(user=cm, kind="approval_decided")
    assert note.title == f"Your reply on incident #{approved.incident_id} was approved"
    event = AuditEvent.objects.get(verb="reply.approve")
    assert (event.actor, event.after["revision"], event.after["role"]) == (
        supervisor,
        1,
        "supervisor",
    )
    assert event.after["text"] == approved.text


def test_the_audit_keeps_at_most_five_thousand_characters_of_an_approved_text(cm, supervisor):
    incident = case(owner=cm, platform="reddit")  # a 10,000-character limit
    reply = drafts.start_draft(actor=cm, incident=incident, now=NOW)
    drafts.save_draft(actor=cm, reply=reply, text="a" * 6000, now=NOW)
    drafts.submit_draft(actor=cm, reply=reply, now=NOW)
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    assert len(AuditEvent.objects.get(verb="reply.approve").after["text"]) == 5000


def test_a_supervisor_who_edited_a_draft_cannot_approve_it(cm, supervisor):
    reply = _submitted(cm)
    drafts.save_draft(actor=supervisor, reply=reply, text="Hola, versión del jefe.", now=LATER)
    with pytest.raises(PermissionDenied, match="You edited this reply"):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)


def test_an_edit_after_approval_goes_back_to_approval(
    cm, supervisor, django_capture_on_commit_callbacks
):
    reply = _submitted(cm)
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        edited = drafts.save_draft(actor=cm, reply=reply, text="Hola, cambio final.", now=LATER)
    assert (edited.state, edited.revision, edited.approved_at) == (
        ReplyState.AWAITING_APPROVAL,
        2,
        None,
    )
    assert drafts.missing_roles(edited) == ["supervisor"]  # the old approval was of revision 1
    edited.incident.refresh_from_db()
    assert edited.incident.state == IncidentState.AWAITING_APPROVAL
    assert Notification.objects.filter(
        kind="approval_requested", dedupe_key=f"reply:{reply.pk}:approval_requested:r2"
    ).exists()
    again = approvals.approve_reply(actor=supervisor, reply=edited, now=LATER)
    assert again.state == ReplyState.APPROVED


def test_the_same_person_cannot_give_both_approvals(cm, supervisor):
    legal_reviewer(supervisor)
    reply = _submitted(cm, groups=("legal_threat",))
    assert reply.approvers_required == ["supervisor", "legal"]
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.AWAITING_APPROVAL
    with pytest.raises(PermissionDenied, match="someone else"):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER, role="legal")
    assert reply.approvals.count() == 1


def test_supervisor_then_another_legal_reviewer_approve_a_legal_matter(cm, supervisor):
    lawyer = legal_reviewer(manager("lawyer"))
    reply = _submitted(cm, groups=("authority",))
    with pytest.raises(PermissionDenied, match="cannot give"):
        approvals.approve_reply(actor=lawyer, reply=reply, now=LATER, role="supervisor")
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    approved = approvals.approve_reply(actor=lawyer, reply=reply, now=LATER)
    assert approved.state == ReplyState.APPROVED
    assert sorted(approved.approvals.values_list("role", "decided_by__username")) == [
        ("legal", "lawyer"),
        ("supervisor", "boss"),
    ]


def test_the_legal_approval_alone_does_not_approve(cm):
    lawyer = legal_reviewer(manager("lawyer"))
    reply = _submitted(cm, groups=("authority",))
    assert approvals.approve_reply(actor=lawyer, reply=reply, now=LATER).state == (
        ReplyState.AWAITING_APPROVAL
    )


def test_an_edit_between_the_two_approvals_needs_both_again(cm, supervisor):
    lawyer = legal_reviewer(manager("lawyer"))
    reply = _submitted(cm, groups=("authority",))
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)
    drafts.save_draft(actor=cm, reply=reply, text="Hola, texto nuevo.", now=LATER)
    after_legal = approvals.approve_reply(actor=lawyer, reply=reply, now=LATER)
    assert after_legal.state == ReplyState.AWAITING_APPROVAL
    assert drafts.missing_roles(after_legal) == ["supervisor"]


def test_edit_and_approve_approves_the_new_revision_as_the_approver(cm, supervisor):
    reply = _submitted(cm)
    approved = approvals.approve_reply(
        actor=supervisor,
        reply=reply,
        now=LATER,
        text="Hola, lo arreglamos hoy.",
        expected_revision=1,
    )
    assert (approved.state, approved.revision, approved.text) == (
        ReplyState.APPROVED,
        2,
        "Hola, lo arreglamos hoy.",
    )
    decision = approved.approvals.get()
    assert (decision.revision, decision.decided_by) == (2, supervisor)
    event = AuditEvent.objects.get(verb="reply.approve")
    assert event.after["edited"] is True
    assert event.before["revision"] == 1


def test_edit_and_approve_by_the_supervisor_leaves_the_legal_approval_to_another(cm, supervisor):
    legal_reviewer(supervisor)
    lawyer = legal_reviewer(manager("lawyer"))
    reply = _submitted(cm, groups=("authority",))
    approvals.approve_reply(actor=supervisor, reply=reply, now=LATER, text="Hola, corregido.")
    with pytest.raises(PermissionDenied):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER, role="legal")
    assert approvals.approve_reply(actor=lawyer, reply=reply, now=LATER).state == (
        ReplyState.APPROVED
    )


def test_edit_and_approve_still_refuses_a_text_over_the_limit(cm, supervisor):
    reply = _submitted(cm)
    with pytest.raises(ReplyError, match="at most 300"):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER, text="a" * 400)


def test_approving_a_revision_the_approver_did_not_see_is_refused(cm, supervisor):
    reply = _submitted(cm)
    drafts.save_draft(actor=cm, reply=reply, text="Hola, cambié algo.", now=LATER)
    with pytest.raises(StaleRevision):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER, expected_revision=1)


def test_a_draft_not_submitted_cannot_be_approved(cm, supervisor):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=NOW)
    with pytest.raises(ReplyError, match="no longer waiting"):
        approvals.approve_reply(actor=supervisor, reply=reply, now=LATER)


# --- Send back --------------------------------------------------------------------------------


def test_sending_back_needs_a_comment(cm, supervisor):
    reply = _submitted(cm)
    with pytest.raises(ReplyError, match="Say what should change"):
        approvals.send_back_reply(actor=supervisor, reply=reply, comment="  ", now=LATER)


def test_sending_back_returns_the_draft_with_the_comment(
    cm, supervisor, django_capture_on_commit_callbacks
):
    reply = _submitted(cm)
    with django_capture_on_commit_callbacks(execute=True):
        back = approvals.send_back_reply(
            actor=supervisor, reply=reply, comment="Quita la promesa de hoy.", now=LATER
        )
    assert (back.state, back.sent_back_comment) == (ReplyState.DRAFT, "Quita la promesa de hoy.")
    back.incident.refresh_from_db()
    assert back.incident.state == IncidentState.IN_PROGRESS
    note = Notification.objects.get(user=cm, kind="approval_decided")
    assert note.body == "Quita la promesa de hoy."
    assert "sent back by boss" in note.title
    assert AuditEvent.objects.get(verb="reply.send_back").after["comment"] == (
        "Quita la promesa de hoy."
    )
    # Submitted again, it waits again and the comment is cleared.
    again = drafts.submit_draft(actor=cm, reply=back, now=LATER)
    assert (again.state, again.sent_back_comment) == (ReplyState.AWAITING_APPROVAL, "")


def test_nobody_sends_back_their_own_draft(supervisor):
    reply = _submitted(supervisor)
    with pytest.raises(PermissionDenied):
        approvals.send_back_reply(actor=supervisor, reply=reply, comment="no", now=LATER)


# --- Escalation ---------------------------------------------------------------------------------


def test_a_draft_waiting_too_long_escalates_once_per_revision(
    supervisor, second_supervisor, django_capture_on_commit_callbacks
):
    reply = _submitted(supervisor)  # only the author could approve it: it waits
    limit = timedelta(minutes=30)  # replies.approval_escalate_minutes
    assert approvals.escalate_waiting_approvals(now=NOW + limit - timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.escalate_waiting_approvals(now=NOW + limit) == 1
    told = Notification.objects.filter(kind="approval_overdue")
    assert set(told.values_list("user__username", flat=True)) == {"boss", "boss2"}
    assert [message.to for message in mail.outbox] == [["pr-lead@brisa.example"]]
    assert "waiting for approval" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.escalate_waiting_approvals(now=NOW + 2 * limit) == 0
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(verb="reply.escalate_approval")
    assert event.actor is None and event.after["contacts"] == 1
    assert "@" not in str(event.after)
    # A new revision waits afresh and escalates again.
    edit_at = NOW + 2 * limit
    drafts.save_draft(actor=supervisor, reply=reply, text="Hola, otra vez.", now=edit_at)
    assert approvals.escalate_waiting_approvals(now=edit_at + limit - timedelta(seconds=1)) == 0
    assert approvals.escalate_waiting_approvals(now=edit_at + limit) == 1


def test_escalation_follows_the_replys_protocol_and_skips_contacts_that_are_not_addresses(
    cm, supervisor, django_capture_on_commit_callbacks
):
    def quick(config):
        config["replies"]["approval_escalate_minutes"] = 5
        config["policies"]["high"]["escalation_contacts"] = [
            "not an address",
            "legal@brisa.example",
            "javascript:alert(1)",
            "legal@brisa.example",
        ]

    _submitted(cm, version=protocol(quick))
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.escalate_waiting_approvals(now=NOW + timedelta(minutes=5)) == 1
    assert [message.to for message in mail.outbox] == [["legal@brisa.example"]]


def test_a_drills_waiting_draft_mails_no_outside_contact(cm, django_capture_on_commit_callbacks):
    reply = _submitted(cm)
    reply.incident.origin = "run:7"
    reply.incident.save(update_fields=["origin"])
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals.escalate_waiting_approvals(now=NOW + timedelta(hours=1)) == 1
    assert mail.outbox == []


def test_the_escalation_task_runs_the_sweep(cm, time_machine):
    _submitted(cm)
    time_machine.move_to(NOW + timedelta(hours=1))
    assert escalation_task.name == "crisis.replies.tasks.escalate_waiting_approvals"
    assert escalation_task() == 1
    assert escalation_task() == 0


def test_the_overdue_mail_speaks_both_languages():
    subject, body = approvals.overdue_mail(incident_id=12, severity="high", minutes=45)
    assert "#12" in subject
    assert "45" in body and "/approvals/" in body


# --- The queue --------------------------------------------------------------------------------


def _waiting(author, count, **options):
    return [_submitted(author, **options) for _ in range(count)]


def test_the_queue_counts_waiting_overdue_and_breached(cm, supervisor):
    _waiting(cm, 2)  # SLA due NOW + 60 min; approval overdue after 30 min
    queue = selectors.approval_queue(supervisor, now=NOW + timedelta(minutes=10))
    assert (queue.waiting, queue.overdue, queue.breached) == (2, 0, 0)
    queue = selectors.approval_queue(supervisor, now=NOW + timedelta(minutes=40))
    assert (queue.waiting, queue.overdue, queue.breached) == (2, 2, 0)
    queue = selectors.approval_queue(supervisor, now=NOW + timedelta(minutes=61))
    assert (queue.waiting, queue.overdue, queue.breached) == (2, 2, 2)


def test_the_queue_lists_oldest_first_with_what_is_missing(cm, supervisor):
    first = _submitted(cm)
    later = _submitted(cm, groups=("authority",))
    Reply.objects.filter(pk=later.pk).update(submitted_at=NOW + timedelta(minutes=1))
    items = selectors.approval_queue(supervisor, now=LATER).page.object_list
    assert [item.reply.pk for item in items] == [first.pk, later.pk]
    assert [item.missing for item in items] == [["supervisor"], ["supervisor", "legal"]]
    assert items[0].can_approve and not items[0].is_own


def test_a_legal_reviewer_sees_only_what_needs_legal(cm):
    lawyer = legal_reviewer(manager("lawyer"))
    _submitted(cm)
    legal = _submitted(cm, groups=("authority",))
    queue = selectors.approval_queue(lawyer, now=LATER)
    assert [item.reply.pk for item in queue.page.object_list] == [legal.pk]
    assert queue.waiting == 1


def test_the_queue_costs_the_same_queries_for_one_or_twenty_drafts(
    cm, supervisor, client, django_assert_max_num_queries
):
    client.force_login(supervisor)
    _waiting(cm, 1)
    client.get(reverse("approvals"))  # warm the session and the permission caches
    with django_assert_max_num_queries(14) as one:
        client.get(reverse("approvals"))
    _waiting(cm, 19)
    _waiting(cm, 1, groups=("authority",))
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(reverse("approvals"))
    assert response.content.decode().count('class="approval-item"') == 21


def test_the_queue_page_shows_each_item_and_escapes_the_authors_message(cm, supervisor, client):
    reply = _submitted(cm, text="<script>alert(1)</script> me cobrasteis dos veces")
    client.force_login(supervisor)
    page = client.get(reverse("approvals")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; me cobrasteis dos veces" in page
    assert "<script>alert(1)</script>" not in page
    assert f"#{reply.incident_id}" in page
    assert reverse("replies:approve", args=[reply.pk]) in page
    assert reverse("replies:send_back", args=[reply.pk]) in page


def test_the_queue_refresh_renders_only_the_list(cm, supervisor, client):
    _submitted(cm)
    client.force_login(supervisor)
    fragment = client.get(reverse("approvals"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert 'class="approval-item"' in fragment


def test_the_queue_pages_by_twenty_five(cm, supervisor, client):
    _waiting(cm, 26)
    client.force_login(supervisor)
    first = client.get(reverse("approvals")).content.decode()
    second = client.get(reverse("approvals") + "?page=2").content.decode()
    assert first.count('class="approval-item"') == 25
    assert second.count('class="approval-item"') == 1


def test_an_empty_queue_says_so(supervisor, client):
    client.force_login(supervisor)
    assert "No reply is waiting for approval." in client.get(reverse("approvals")).content.decode()


# --- Edge cases of the wait --------------------------------------------------------------------


def test_a_draft_sent_back_and_submitted_again_unchanged_tells_the_approvers_again(
    cm, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = _submitted(cm)
        approvals.send_back_reply(actor=supervisor, reply=reply, comment="Revísalo.", now=LATER)
        drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    keys = Notification.objects.filter(kind="approval_requested").values_list(
        "dedupe_key", flat=True
    )
    assert sorted(keys) == [
        f"reply:{reply.pk}:approval_requested:r1",
        f"reply:{reply.pk}:approval_requested:r1s1",
    ]


def test_an_approved_reply_the_protocol_did_not_ask_to_approve_goes_back_to_draft_when_edited(
    cm,
):
    incident = case(owner=cm, severity="medium", triage_class="question")
    reply = drafts.start_draft(actor=cm, incident=incident, now=NOW)
    assert drafts.submit_draft(actor=cm, reply=reply, now=NOW).state == ReplyState.APPROVED
    edited = drafts.save_draft(actor=cm, reply=reply, text="Hola, mejor así.", now=LATER)
    assert (edited.state, edited.approved_at) == (ReplyState.DRAFT, None)
    assert drafts.submit_draft(actor=cm, reply=edited, now=LATER).state == ReplyState.APPROVED


def test_a_waiting_reply_edited_past_the_limit_goes_back_to_draft(cm, supervisor):
    reply = _submitted(cm)
    edited = drafts.save_draft(actor=cm, reply=reply, text="a" * 400, now=LATER)
    assert edited.state == ReplyState.DRAFT
    edited.incident.refresh_from_db()
    assert edited.incident.state == IncidentState.IN_PROGRESS
    assert selectors.approval_queue(supervisor, now=LATER).waiting == 0
