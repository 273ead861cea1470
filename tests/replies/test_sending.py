"""Sending approved replies: where Calma can post (can_post), ready to copy and marked sent by
hand, the first response stopping the SLA clock, failures with a retry button, the stuck-send
sweep, corrections and deletions, the send status panel, and every URL per role.

Posting through the platforms, over the simulator's real HTTP, is in
test_idempotent_send.py and at the end of this file."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.replies import sending
from crisis.replies.models import Reply, ReplyPurpose, ReplyState, ReplyVisibility
from monitoring.platforms import Platform
from tests.incidents.factories import NOW, team
from tests.incidents.factories import manager as team_manager
from tests.replies import sending_factories as make

pytestmark = pytest.mark.django_db


def verbs(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )


@pytest.fixture
def postable(monkeypatch):
    """A Mastodon source whose answering account is enabled and has its token."""
    found_by = make.source(Platform.MASTODON)
    account = make.account(Platform.MASTODON, sources=(found_by,))
    make.secrets(monkeypatch, account)
    return found_by, account


# --- can_post ------------------------------------------------------------------------------------
def test_a_public_reply_on_a_source_with_a_working_account_can_be_posted(postable, manager):
    found_by, account = postable
    reply = make.approved_reply(make.case_on(found_by, owner=manager), by=manager)
    assert sending.can_post(reply)
    assert sending.posting_account(reply) == account


def test_a_private_reply_is_never_posted_by_calma(postable, manager):
    found_by, _account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager), by=manager, visibility=ReplyVisibility.PRIVATE
    )
    assert not sending.can_post(reply)


def test_feeds_csv_and_sources_without_account_are_copied_by_hand(manager, monkeypatch):
    feed = make.source(Platform.FEED)
    feed_reply = make.approved_reply(make.case_on(feed, owner=manager), by=manager)
    assert not sending.can_post(feed_reply)
    lonely = make.source(Platform.MASTODON)
    lonely_reply = make.approved_reply(make.case_on(lonely, owner=manager), by=manager)
    assert not sending.can_post(lonely_reply)
    unsourced = make.approved_reply(make.case_on(None, owner=manager), by=manager)
    assert not sending.can_post(unsourced)


def test_a_disabled_account_or_a_missing_secret_cannot_post(postable, manager, monkeypatch):
    found_by, account = postable
    reply = make.approved_reply(make.case_on(found_by, owner=manager), by=manager)
    monkeypatch.delenv(f"CALMA_SECRET_{account.credentials_ref}_ACCESS_TOKEN")
    assert not sending.can_post(reply)
    make.secrets(monkeypatch, account)
    account.enabled = False
    account.save()
    assert not sending.can_post(reply)


# --- after approval ---------------------------------------------------------------------------
def test_approval_queues_the_send_when_calma_can_post(
    postable, manager, django_capture_on_commit_callbacks, redis_client
):
    found_by, account = postable
    reply = make.approved_reply(make.case_on(found_by, owner=manager), by=manager)
    with django_capture_on_commit_callbacks() as callbacks:
        sending.after_approval(reply=reply, now=NOW)
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED
    assert reply.account == account
    assert len(callbacks) == 1  # the send task, once committed


def test_approval_leaves_the_reply_ready_to_copy_otherwise(
    manager, django_capture_on_commit_callbacks
):
    reply = make.approved_reply(make.case_on(make.source(Platform.FEED), owner=manager), by=manager)
    with django_capture_on_commit_callbacks() as callbacks:
        sending.after_approval(reply=reply, now=NOW)
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED
    assert reply.account is None
    assert callbacks == []
    status = sending.send_status(reply, manager)
    assert status.ready_to_copy and status.can_mark_sent and not status.queued


# --- marked sent by hand ---------------------------------------------------------------------
def test_marking_sent_by_hand_stores_the_link_and_stops_the_sla_clock(manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager)
    reply = make.approved_reply(incident, by=manager)
    sent_at = NOW + timedelta(minutes=20)
    sending.mark_sent_by_hand(
        actor=manager, reply=reply, url="https://blog.example/comment/9", now=sent_at
    )
    reply.refresh_from_db()
    incident.refresh_from_db()
    assert reply.state == ReplyState.SENT
    assert reply.sent_by_hand and reply.sent_by == manager and reply.sent_at == sent_at
    assert reply.url == "https://blog.example/comment/9"
    assert incident.state == IncidentState.REPLIED
    assert incident.first_response_at == sent_at
    assert incident.sla_breached_at is None  # answered inside the hour
    assert verbs(reply) == ["reply.marked_sent"]
    assert "incident.reply" in verbs(incident)


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "ftp://files.example/x", "not a link", "", "data:text/html,x"]
)
def test_only_http_links_are_accepted(manager, link):
    reply = make.approved_reply(make.case_on(make.source(Platform.FEED), owner=manager), by=manager)
    with pytest.raises(ValidationError):
        sending.mark_sent_by_hand(actor=manager, reply=reply, url=link, now=NOW)
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED


def test_a_late_reply_by_hand_records_the_breach(manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager)
    reply = make.approved_reply(incident, by=manager)
    sending.mark_sent_by_hand(
        actor=manager, reply=reply, url="https://x.example/1", now=NOW + timedelta(hours=3)
    )
    incident.refresh_from_db()
    assert incident.sla_breached_at == incident.sla_due_at


def test_a_private_reply_sent_by_hand_does_not_stop_the_public_clock(manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager)
    reply = make.approved_reply(incident, by=manager, visibility=ReplyVisibility.PRIVATE)
    sending.mark_sent_by_hand(actor=manager, reply=reply, url="https://x.example/dm", now=NOW)
    incident.refresh_from_db()
    assert incident.state == IncidentState.IN_PROGRESS
    assert incident.first_response_at is None


def test_a_queued_reply_cannot_be_marked_sent_by_hand(postable, manager):
    found_by, account = postable
    reply = make.approved_reply(make.case_on(found_by, owner=manager), by=manager, account=account)
    with pytest.raises(sending.SendingError):
        sending.mark_sent_by_hand(actor=manager, reply=reply, url="https://x.example/1", now=NOW)


def test_a_reply_already_replied_incident_keeps_its_state_and_first_response(manager):
    first = NOW - timedelta(hours=1)
    incident = make.case_on(
        make.source(Platform.FEED), owner=manager, state=IncidentState.PRIVATE_FOLLOW_UP
    )
    incident.first_response_at = first
    incident.save()
    reply = make.approved_reply(incident, by=manager)
    sending.mark_sent_by_hand(actor=manager, reply=reply, url="https://x.example/2", now=NOW)
    incident.refresh_from_db()
    assert incident.state == IncidentState.PRIVATE_FOLLOW_UP
    assert incident.first_response_at == first


def test_someone_who_cannot_act_on_the_incident_cannot_mark_it_sent(manager):
    other_team = team("Other team")
    stranger = team_manager("stranger", of=team("Stranger's team"))
    incident = make.case_on(make.source(Platform.FEED), of=other_team)
    reply = make.approved_reply(incident, by=manager)
    with pytest.raises(PermissionDenied):
        sending.mark_sent_by_hand(actor=stranger, reply=reply, url="https://x.example/3", now=NOW)


# --- retry ----------------------------------------------------------------------------------------
def test_retrying_a_failed_reply_is_audited_and_queues_the_send(
    postable, manager, django_capture_on_commit_callbacks
):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager),
        by=manager,
        account=account,
        state=ReplyState.FAILED,
        last_error=sending.ERROR_UNAVAILABLE,
        send_attempts=7,
    )
    with django_capture_on_commit_callbacks() as callbacks:
        sending.retry_send(actor=manager, reply=reply, now=NOW)
    assert len(callbacks) == 1
    assert verbs(reply) == ["reply.retry"]


def test_a_reply_that_cannot_be_posted_any_more_is_not_retried(manager, postable):
    found_by, account = postable
    account.enabled = False
    account.save()
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager), by=manager, account=account, state=ReplyState.FAILED
    )
    with pytest.raises(sending.SendingError):
        sending.retry_send(actor=manager, reply=reply, now=NOW)
    # Still offered to copy by hand.
    status = sending.send_status(reply, manager)
    assert status.ready_to_copy and status.can_mark_sent


def test_a_sent_reply_is_not_retried(manager, postable):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager), by=manager, account=account, state=ReplyState.SENT
    )
    with pytest.raises(sending.SendingError):
        sending.retry_send(actor=manager, reply=reply, now=NOW)


def test_the_send_task_leaves_a_reply_in_flight_alone(manager, postable):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager),
        by=manager,
        account=account,
        state=ReplyState.SENDING,
        sending_started_at=NOW - timedelta(seconds=30),
        send_attempts=1,
    )
    assert sending.send_reply(reply_id=reply.pk, now=NOW) is None
    reply.refresh_from_db()
    assert reply.send_attempts == 1


def test_a_disabled_account_hands_the_queued_reply_back_to_copy(
    manager, postable, django_capture_on_commit_callbacks
):
    found_by, account = postable
    reply = make.approved_reply(make.case_on(found_by, owner=manager), by=manager, account=account)
    account.enabled = False
    account.save()
    with django_capture_on_commit_callbacks(execute=True):
        sending.send_reply(reply_id=reply.pk, now=NOW)
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED
    assert reply.account is None
    assert reply.last_error == sending.ERROR_CANNOT_POST
    assert verbs(reply) == ["reply.send_started", "reply.send_failed"]
    assert Notification.objects.filter(user=manager, kind=NotificationKind.REPLY_FAILED).exists()


# --- the sweep ------------------------------------------------------------------------------------
def test_the_sweep_queues_sends_left_behind_and_nothing_else(manager, postable, redis_client):
    found_by, account = postable

    def reply_in(state, **fields):
        return make.approved_reply(
            make.case_on(found_by, owner=manager),
            by=manager,
            account=account,
            state=state,
            **fields,
        )

    old = NOW - timedelta(minutes=10)
    dead_worker = reply_in(
        ReplyState.SENDING, sending_started_at=old, updated_at=old, send_attempts=1
    )
    lost_retry = reply_in(ReplyState.SENDING, send_attempts=2, updated_at=old)
    lost_task = reply_in(ReplyState.APPROVED, updated_at=old)
    reply_in(ReplyState.SENDING, sending_started_at=NOW - timedelta(seconds=20), send_attempts=1)
    reply_in(ReplyState.APPROVED, updated_at=NOW - timedelta(seconds=20))
    reply_in(ReplyState.SENT, updated_at=old)
    reply_in(ReplyState.FAILED, updated_at=old)
    assert sending.sweep_stuck_sends(now=NOW) == 3
    queued = redis_client.lrange("celery", 0, -1)
    assert len(queued) == 3
    for swept in (dead_worker, lost_retry, lost_task):
        swept.refresh_from_db()
        assert swept.updated_at == NOW
    # Touched: the next minute's sweep leaves them to the queued task.
    assert sending.sweep_stuck_sends(now=NOW + timedelta(minutes=1)) == 0


def test_the_sweep_gives_up_after_too_many_attempts(
    manager, postable, django_capture_on_commit_callbacks
):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager),
        by=manager,
        account=account,
        state=ReplyState.SENDING,
        sending_started_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(hours=1),
        send_attempts=sending.MAX_ATTEMPTS,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sending.sweep_stuck_sends(now=NOW)
    reply.refresh_from_db()
    assert reply.state == ReplyState.FAILED
    assert reply.last_error == sending.ERROR_UNAVAILABLE
    assert Notification.objects.filter(user=manager, kind=NotificationKind.REPLY_FAILED).exists()


# --- correct and delete -----------------------------------------------------------------------
def sent_reply(incident, by, **fields):
    return make.approved_reply(
        incident,
        by=by,
        state=ReplyState.SENT,
        sent_at=NOW,
        url="https://blog.example/comment/1",
        sent_by_hand=True,
        **fields,
    )


def test_correcting_a_sent_reply_starts_a_correction_draft_with_its_text(manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager, state=IncidentState.REPLIED)
    wrong = sent_reply(incident, manager, text="Texto equivocado")
    correction = sending.correct_sent_reply(actor=manager, reply=wrong, now=NOW)
    assert correction.state == ReplyState.DRAFT
    assert correction.purpose == ReplyPurpose.CORRECTION
    assert correction.corrects == wrong
    assert correction.text == "Texto equivocado"
    assert correction.in_reply_to == wrong.in_reply_to
    assert "reply.corrected" in verbs(wrong)


def test_only_the_author_the_owner_or_a_supervisor_corrects_or_deletes(manager, supervisor):
    colleague = team_manager("colleague")
    incident = make.case_on(make.source(Platform.FEED), owner=manager, state=IncidentState.REPLIED)
    wrong = sent_reply(incident, manager)
    with pytest.raises(PermissionDenied):
        sending.correct_sent_reply(actor=colleague, reply=wrong, now=NOW)
    with pytest.raises(PermissionDenied):
        sending.delete_sent_reply(
            actor=colleague, reply=wrong, justification="x", now=NOW, by_hand=True
        )
    sending.delete_sent_reply(
        actor=supervisor, reply=wrong, justification="Wrong customer", now=NOW, by_hand=True
    )
    wrong.refresh_from_db()
    assert wrong.state == ReplyState.DELETED


def test_deleting_by_hand_needs_a_justification_and_is_audited(manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager, state=IncidentState.REPLIED)
    wrong = sent_reply(incident, manager)
    with pytest.raises(ValidationError):
        sending.delete_sent_reply(actor=manager, reply=wrong, justification="  ", now=NOW)
    with pytest.raises(sending.SendingError):  # Calma cannot delete a reply posted by hand
        sending.delete_sent_reply(actor=manager, reply=wrong, justification="Typo", now=NOW)
    sending.delete_sent_reply(
        actor=manager, reply=wrong, justification="Wrong amount", now=NOW, by_hand=True
    )
    wrong.refresh_from_db()
    assert wrong.state == ReplyState.DELETED and wrong.deleted_at == NOW
    event = AuditEvent.objects.get(verb="reply.deleted")
    assert event.after == {"state": "deleted", "by_hand": True, "justification": "Wrong amount"}


# --- the panel ------------------------------------------------------------------------------------
def test_the_status_page_shows_ready_to_copy_with_a_copy_button_and_mark_sent(client, manager):
    reply = make.approved_reply(
        make.case_on(make.source(Platform.FEED), owner=manager),
        by=manager,
        text="Hola <script>alert(1)</script>",
    )
    client.force_login(manager)
    page = client.get(reverse("replies:send_status", args=[reply.pk])).content.decode()
    assert "readonly" in page and "data-copy-target" in page
    assert "js/reply_copy.js" in page
    assert reverse("replies:send_mark_sent", args=[reply.pk]) in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_the_status_partial_polls_while_sending_and_stops_once_sent(client, manager, postable):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager),
        by=manager,
        account=account,
        state=ReplyState.SENDING,
        sending_started_at=NOW,
        send_attempts=1,
    )
    client.force_login(manager)
    url = reverse("replies:send_status", args=[reply.pk])
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 3s"' in partial and "<html" not in partial
    Reply.objects.filter(pk=reply.pk).update(
        state=ReplyState.SENT, url="javascript:alert(1)", sending_started_at=None
    )
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in partial
    assert "javascript:" not in partial  # an unsafe link is never rendered
    assert "No link recorded" in partial


def test_a_failed_reply_shows_its_error_and_a_retry_button(client, manager, postable):
    found_by, account = postable
    reply = make.approved_reply(
        make.case_on(found_by, owner=manager),
        by=manager,
        account=account,
        state=ReplyState.FAILED,
        last_error=sending.ERROR_CREDENTIALS,
    )
    client.force_login(manager)
    page = client.get(reverse("replies:send_status", args=[reply.pk])).content.decode()
    assert "refused the account&#x27;s credentials" in page
    assert reverse("replies:send_retry", args=[reply.pk]) in page


def test_a_sent_reply_links_to_the_platform_and_offers_correct_and_delete(client, manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager, state=IncidentState.REPLIED)
    reply = sent_reply(incident, manager)
    client.force_login(manager)
    page = client.get(reverse("replies:send_status", args=[reply.pk])).content.decode()
    assert 'href="https://blog.example/comment/1"' in page
    assert reverse("replies:send_correct", args=[reply.pk]) in page
    assert reverse("replies:send_delete", args=[reply.pk]) in page
    confirm = client.get(reverse("replies:send_delete", args=[reply.pk])).content.decode()
    assert "I deleted it by hand" in confirm


def test_mark_sent_form_errors_are_shown_not_a_500(client, manager):
    reply = make.approved_reply(make.case_on(make.source(Platform.FEED), owner=manager), by=manager)
    client.force_login(manager)
    response = client.post(
        reverse("replies:send_mark_sent", args=[reply.pk]), {"url": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    reply.refresh_from_db()
    assert reply.state == ReplyState.APPROVED


def test_a_refused_action_is_a_message_on_the_incident_page(client, manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager, state=IncidentState.REPLIED)
    reply = sent_reply(incident, manager)
    client.force_login(manager)
    response = client.post(reverse("replies:send_retry", args=[reply.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("incidents:detail", args=[incident.pk]))
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == ["Only a reply that failed to send can be sent again."]


# --- every URL, per role --------------------------------------------------------------------------
# (method, url name, reply state the action needs, data)
SEND_URLS = [
    ("get", "replies:send_status", ReplyState.APPROVED, None),
    ("post", "replies:send_retry", ReplyState.FAILED, {}),
    ("get", "replies:send_mark_sent", ReplyState.APPROVED, None),
    ("post", "replies:send_mark_sent", ReplyState.APPROVED, {"url": "https://x.example/9"}),
    ("post", "replies:send_correct", ReplyState.SENT, {}),
    ("get", "replies:send_delete", ReplyState.SENT, None),
    ("post", "replies:send_delete", ReplyState.SENT, {"justification": "Wrong customer"}),
]


def reply_for_url(state, owner, drafter, *, of=None, monkeypatch=None):
    found_by = make.source(Platform.MASTODON)
    account = make.account(Platform.MASTODON, sources=(found_by,))
    if monkeypatch is not None:
        make.secrets(monkeypatch, account)
    incident_state = (
        IncidentState.REPLIED if state == ReplyState.SENT else IncidentState.IN_PROGRESS
    )
    incident = make.case_on(found_by, owner=owner, of=of, state=incident_state)
    fields = {"account": account} if state == ReplyState.FAILED else {}
    if state == ReplyState.SENT:
        fields.update(sent_at=NOW, url="https://x.example/1", sent_by_hand=True)
    return make.approved_reply(incident, by=drafter, state=state, **fields)


def call(client, method, name, reply, data):
    url = reverse(name, args=[reply.pk])
    return client.get(url) if method == "get" else client.post(url, data or {})


@pytest.mark.parametrize(("method", "name", "state", "data"), SEND_URLS)
def test_anonymous_is_sent_to_sign_in_for_send_urls(client, manager, method, name, state, data):
    reply = reply_for_url(state, manager, manager)
    response = call(client, method, name, reply, data)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("method", "name", "state", "data"), SEND_URLS)
@pytest.mark.parametrize("role", ["manager", "supervisor"])
def test_the_owner_and_a_supervisor_use_send_urls(
    client, request, manager, monkeypatch, role, method, name, state, data, redis_client
):
    reply = reply_for_url(state, manager, manager, monkeypatch=monkeypatch)
    client.force_login(request.getfixturevalue(role))
    response = call(client, method, name, reply, data)
    if method == "get":
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert response.url.startswith(reverse("incidents:detail", args=[reply.incident_id]))
    reply.refresh_from_db()
    expected = {
        "replies:send_retry": [],  # queued; the task claims it
        "replies:send_mark_sent": ["reply.marked_sent"],
        "replies:send_correct": ["reply.corrected"],
        "replies:send_delete": ["reply.deleted"],
    }[name]
    assert [verb for verb in verbs(reply) if verb != "reply.retry"] == expected
    if name == "replies:send_retry":
        assert verbs(reply) == ["reply.retry"]


@pytest.mark.parametrize(("method", "name", "state", "data"), SEND_URLS)
@pytest.mark.parametrize("role", ["executive", "administrator"])
def test_executives_and_admins_do_not_send(
    client, request, manager, role, method, name, state, data
):
    reply = reply_for_url(state, manager, manager)
    client.force_login(request.getfixturevalue(role))
    assert call(client, method, name, reply, data).status_code == 403
    reply.refresh_from_db()
    assert reply.state == state
    assert verbs(reply) == []


@pytest.mark.parametrize(("method", "name", "state", "data"), SEND_URLS)
def test_a_manager_cannot_touch_another_teams_reply(client, manager, method, name, state, data):
    theirs = team("Their team")
    owner = team_manager("their-manager", of=theirs)
    team_manager_of_ours = team_manager("ours", of=team("Our team"))
    reply = reply_for_url(state, owner, owner, of=theirs)
    client.force_login(team_manager_of_ours)
    assert call(client, method, name, reply, data).status_code == 403
    reply.refresh_from_db()
    assert reply.state == state
    assert verbs(reply) == []


def test_unknown_reply_is_not_found(client, manager):
    client.force_login(manager)
    assert client.get(reverse("replies:send_status", args=[999999])).status_code == 404


# --- hand-overs to the other slices ---------------------------------------------------------------
def test_an_acknowledgement_sent_moves_the_case_to_its_private_follow_up(manager):
    from crisis.replies.models import FollowUp

    incident = make.case_on(make.source(Platform.FEED), owner=manager)
    FollowUp.objects.create(
        incident=incident,
        channel="email",
        owner=manager,
        due_at=NOW + timedelta(days=1),
        created_by=manager,
        created_at=NOW,
    )
    ack = make.approved_reply(incident, by=manager, purpose=ReplyPurpose.ACKNOWLEDGEMENT)
    sending.mark_sent_by_hand(actor=manager, reply=ack, url="https://blog.example/c/2", now=NOW)
    incident.refresh_from_db()
    assert incident.state == IncidentState.PRIVATE_FOLLOW_UP
    assert incident.first_response_at == NOW  # the public acknowledgement answered in time


def test_the_incident_page_shows_the_send_status_of_its_replies(client, manager):
    incident = make.case_on(make.source(Platform.FEED), owner=manager)
    reply = make.approved_reply(incident, by=manager)
    client.force_login(manager)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert f'id="send-status-{reply.pk}"' in page
    assert reverse("replies:send_mark_sent", args=[reply.pk]) in page


# --- the link boundary ----------------------------------------------------------------------------
@given(st.text(max_size=300))
@hypothesis_settings(max_examples=200, deadline=None)
def test_any_link_typed_or_returned_is_either_http_or_refused(text):
    from crisis.replies.forms_sending import MarkSentForm

    link = sending.safe_url(text)
    assert link == "" or link.split(":", 1)[0].lower() in ("http", "https")
    form = MarkSentForm({"url": text})
    if form.is_valid():
        assert sending.safe_url(form.cleaned_data["url"])
