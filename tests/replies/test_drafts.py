"""Drafts: started from the protocol's template for the incident's class and severity, in the
mention's language, with variables filled; edited on the server with a revision check; the
character limit, unfilled variables and the tone check; submitted straight to sending or to
approval."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from crisis.notifications.models import Notification
from crisis.replies import drafts
from crisis.replies.drafts import ReplyError, StaleRevision
from crisis.replies.models import Reply, ReplyState
from tests.incidents.factories import NOW, manager, team
from tests.replies.helpers import attach_mention, case, legal_reviewer, make_supervisor, protocol

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=5)
ALL_VARIABLES = {
    "es": ["Hola {author}, soy {agent} de {brand}. Caso {case} en {channel}."],
    "en": ["Hi {author}, {agent} from {brand} here. Case {case} on {channel}."],
}


@pytest.fixture
def care():
    return team("Care")


@pytest.fixture
def cm(care):
    user = manager("cm", of=care)
    user.first_name = "Lucía"
    user.save()
    return user


def _with_templates(templates, triage_class="complaint_company_fault", brand="Brisa"):
    def change(config):
        for policy in config["policies"].values():
            policy["actions"][triage_class]["templates"] = templates
        config["replies"]["brand"] = brand

    return protocol(change)


def _audit(verb, reply):
    return AuditEvent.objects.filter(
        verb=verb, object_type="replies.reply", object_id=str(reply.pk)
    )


# --- Template filling ----------------------------------------------------------------------------


def test_a_draft_starts_from_the_class_template_in_the_mentions_language(cm):
    incident = case(owner=cm)
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert reply.language == "es"
    assert reply.template_key == "complaint_company_fault:es:0"
    assert reply.text.startswith(f"Hola {incident.author.handle}, tienes toda la razón")
    assert reply.text.endswith("Lucía")
    assert reply.state == ReplyState.DRAFT
    assert reply.in_reply_to == incident.first_mention


def test_an_english_mention_gets_the_english_template(cm):
    incident = case(owner=cm, language="en")
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert reply.language == "en"
    assert reply.text.startswith(f"Hi {incident.author.handle}, you're right and we're sorry.")


def test_the_language_can_be_chosen(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER, language="en")
    assert (reply.language, reply.template_key) == ("en", "complaint_company_fault:en:0")
    assert reply.text.startswith("Hi ")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Hola Ana Pérez, soy Lucía de Brisa. Caso #{id} en Bluesky."),
        ("en", "Hi Ana Pérez, Lucía from Brisa here. Case #{id} on Bluesky."),
    ],
)
def test_every_variable_is_filled_in_both_languages(cm, language, expected):
    incident = case(owner=cm, version=_with_templates(ALL_VARIABLES), language=language)
    incident.author.display_name = "Ana Pérez"
    incident.author.save()
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert reply.text == expected.format(id=incident.pk)
    assert drafts.checks_for(reply).unfilled == []


def test_the_agent_is_the_username_without_a_first_name(care):
    plain = manager("plain", of=care)
    incident = case(owner=plain, version=_with_templates(ALL_VARIABLES))
    reply = drafts.start_draft(actor=plain, incident=incident, now=LATER)
    assert "soy plain de Brisa" in reply.text


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_variable_without_a_value_stays_and_blocks_submission(cm, language):
    incident = case(owner=cm, version=_with_templates(ALL_VARIABLES, brand=""), language=language)
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert "{brand}" in reply.text
    assert drafts.checks_for(reply).unfilled == ["brand"]
    with pytest.raises(ReplyError, match=r"\{brand\}"):
        drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.DRAFT


def test_a_class_without_templates_starts_an_empty_draft(cm):
    incident = case(owner=cm, triage_class="troll_abuse")
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert (reply.text, reply.template_key) == ("", "")
    with pytest.raises(ReplyError, match="Write the reply"):
        drafts.submit_draft(actor=cm, reply=reply, now=LATER)


def test_a_blank_draft_can_be_asked_for(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER, template_key="blank")
    assert reply.text == ""


def test_a_template_of_another_class_is_refused(cm):
    with pytest.raises(ReplyError):
        drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER, template_key="praise:es:0")


def test_the_template_can_be_applied_again_in_the_other_language(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    switched = drafts.apply_template(
        actor=cm,
        reply=reply,
        now=LATER,
        template_key="complaint_company_fault:en:0",
        language="en",
        expected_revision=1,
    )
    assert (switched.language, switched.revision) == ("en", 2)
    assert switched.text.startswith("Hi ")


# --- Starting: who, and what happens to the incident ----------------------------------------------


def test_starting_a_draft_puts_the_incident_in_progress(cm):
    incident = case(owner=cm)
    drafts.start_draft(actor=cm, incident=incident, now=LATER)
    incident.refresh_from_db()
    assert incident.state == IncidentState.IN_PROGRESS
    assert _audit("reply.draft", Reply.objects.get()).exists()


def test_drafting_on_an_unowned_incident_of_the_team_takes_it(cm, care):
    incident = case(owner=None, of=care, state=IncidentState.NEW)
    drafts.start_draft(actor=cm, incident=incident, now=LATER)
    incident.refresh_from_db()
    assert (incident.owner, incident.state) == (cm, IncidentState.IN_PROGRESS)


def test_a_manager_cannot_draft_on_a_colleagues_incident(cm, care):
    colleague = manager("colleague", of=care)
    with pytest.raises(PermissionDenied):
        drafts.start_draft(actor=cm, incident=case(owner=colleague, of=care), now=LATER)
    assert not Reply.objects.exists()


def test_a_manager_cannot_draft_on_another_teams_incident(cm):
    other = team("Sales")
    with pytest.raises(PermissionDenied):
        drafts.start_draft(
            actor=cm, incident=case(owner=None, of=other, state=IncidentState.NEW), now=LATER
        )


def test_an_executive_cannot_draft(executive, cm):
    with pytest.raises(PermissionDenied):
        drafts.start_draft(actor=executive, incident=case(owner=cm), now=LATER)


def test_only_one_live_reply_per_incident(cm):
    incident = case(owner=cm)
    drafts.start_draft(actor=cm, incident=incident, now=LATER)
    with pytest.raises(ReplyError, match="already has a reply in progress"):
        drafts.start_draft(actor=cm, incident=incident, now=LATER)


def test_a_closed_incident_is_reopened_before_replying(cm):
    incident = case(owner=cm, state=IncidentState.RESOLVED)
    with pytest.raises(ReplyError, match="reopen"):
        drafts.start_draft(actor=cm, incident=incident, now=LATER)


# --- Saving ---------------------------------------------------------------------------------------


def test_saving_stores_a_new_revision_and_audits_only_a_summary(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    long_text = "Hola, " + "muy " * 300 + "gracias."
    saved = drafts.save_draft(actor=cm, reply=reply, text=long_text, now=LATER, expected_revision=1)
    saved.refresh_from_db()
    assert (saved.text, saved.revision) == (long_text, 2)
    event = _audit("reply.edit", saved).get()
    assert event.after["length"] == len(long_text)
    assert event.after["revision"] == 2
    assert len(event.after["prefix"]) == drafts.AUDIT_PREFIX_LENGTH
    assert "text" not in event.after


def test_saving_the_same_text_changes_nothing(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    drafts.save_draft(actor=cm, reply=reply, text=reply.text, now=LATER, expected_revision=1)
    reply.refresh_from_db()
    assert reply.revision == 1
    assert not _audit("reply.edit", reply).exists()


def test_a_save_from_a_stale_tab_is_refused_with_a_clear_message(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    drafts.save_draft(actor=cm, reply=reply, text="first tab", now=LATER, expected_revision=1)
    with pytest.raises(StaleRevision, match="changed in another tab") as refused:
        drafts.save_draft(actor=cm, reply=reply, text="second tab", now=LATER, expected_revision=1)
    assert refused.value.current_revision == 2
    reply.refresh_from_db()
    assert reply.text == "first tab"


def test_nul_characters_never_reach_the_database(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    drafts.save_draft(actor=cm, reply=reply, text="a\x00b", now=LATER)
    reply.refresh_from_db()
    assert reply.text == "ab"


def test_a_reply_already_sent_cannot_be_edited(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    Reply.objects.filter(pk=reply.pk).update(state=ReplyState.SENT)
    with pytest.raises(ReplyError, match="can no longer be edited"):
        drafts.save_draft(actor=cm, reply=reply, text="new", now=LATER)


# --- Checks: limit, tone ------------------------------------------------------------------------


def test_a_public_reply_over_the_platforms_limit_is_refused_on_submit(cm):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)  # Bluesky: 300
    drafts.save_draft(actor=cm, reply=reply, text="a" * 301, now=LATER)
    checks = drafts.checks_for(Reply.objects.get(pk=reply.pk))
    assert (checks.length, checks.limit, checks.over_limit) == (301, 300, True)
    with pytest.raises(ReplyError, match="at most 300"):
        drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    reply.refresh_from_db()
    assert reply.state == ReplyState.DRAFT


def test_a_private_reply_is_not_bound_by_the_public_limit(cm, supervisor):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER, visibility="private")
    drafts.save_draft(actor=cm, reply=reply, text="a" * 301, now=LATER)
    submitted = drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    assert submitted.state == ReplyState.AWAITING_APPROVAL


def test_the_tone_check_warns_about_boilerplate_but_lets_it_through(cm):
    incident = case(owner=cm, severity="medium", triage_class="question")
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    text = "Hola, lamentamos las molestias ocasionadas. We take this very seriously."
    drafts.save_draft(actor=cm, reply=reply, text=text, now=LATER)
    reply.refresh_from_db()
    assert drafts.checks_for(reply).boilerplate == [
        "lamentamos las molestias ocasionadas",
        "we take this very seriously",
    ]
    assert drafts.submit_draft(actor=cm, reply=reply, now=LATER).state == ReplyState.APPROVED


# --- Submitting ---------------------------------------------------------------------------------


def test_a_reply_the_protocol_does_not_ask_to_approve_is_approved_on_submit(cm, supervisor):
    incident = case(owner=cm, severity="medium", triage_class="question")
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    submitted = drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    assert (submitted.state, submitted.approvers_required) == (ReplyState.APPROVED, [])
    assert submitted.approved_at == LATER
    incident.refresh_from_db()
    assert incident.state == IncidentState.IN_PROGRESS
    assert _audit("reply.submit", submitted).get().after["text"] == submitted.text


def test_a_reply_needing_approval_waits_and_the_supervisors_are_told(
    cm, supervisor, django_capture_on_commit_callbacks
):
    legal_reviewer(manager("lawyer"))  # not told: no legal group matched
    incident = case(owner=cm)
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    assert submitted.state == ReplyState.AWAITING_APPROVAL
    assert submitted.approvers_required == ["supervisor"]
    incident.refresh_from_db()
    assert incident.state == IncidentState.AWAITING_APPROVAL
    notes = Notification.objects.filter(kind="approval_requested")
    assert [note.user for note in notes] == [supervisor]
    assert notes.get().dedupe_key == f"reply:{reply.pk}:approval_requested:r1"


def test_a_legal_matter_also_tells_the_legal_reviewers_but_never_the_author(
    supervisor, django_capture_on_commit_callbacks
):
    drafting_boss = supervisor
    lawyer = legal_reviewer(manager("lawyer"))
    other_boss = make_supervisor("boss2")
    incident = case(owner=drafting_boss, groups=("legal_threat",))
    reply = drafts.start_draft(actor=drafting_boss, incident=incident, now=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        drafts.submit_draft(actor=drafting_boss, reply=reply, now=LATER)
    reply.refresh_from_db()
    assert reply.approvers_required == ["supervisor", "legal"]
    told = set(
        Notification.objects.filter(kind="approval_requested").values_list("user", flat=True)
    )
    assert told == {lawyer.pk, other_boss.pk}


def test_a_legal_group_matched_by_a_later_mention_counts(cm):
    incident = case(owner=cm, severity="medium", triage_class="question")
    attach_mention(incident, groups=("authority",))
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    assert drafts.submit_draft(actor=cm, reply=reply, now=LATER).approvers_required == [
        "supervisor",
        "legal",
    ]


def test_editing_while_awaiting_approval_keeps_it_waiting_as_a_new_revision(
    cm, supervisor, django_capture_on_commit_callbacks
):
    reply = drafts.start_draft(actor=cm, incident=case(owner=cm), now=LATER)
    drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        edited = drafts.save_draft(actor=cm, reply=reply, text="Hola, otra versión.", now=LATER)
    assert (edited.state, edited.revision) == (ReplyState.AWAITING_APPROVAL, 2)
    assert Notification.objects.filter(
        dedupe_key=f"reply:{reply.pk}:approval_requested:r2"
    ).exists()


def test_discarding_a_waiting_reply_puts_the_incident_back_in_progress(cm, supervisor):
    incident = case(owner=cm)
    reply = drafts.start_draft(actor=cm, incident=incident, now=LATER)
    drafts.submit_draft(actor=cm, reply=reply, now=LATER)
    drafts.discard_draft(actor=cm, reply=reply, now=LATER)
    reply.refresh_from_db()
    incident.refresh_from_db()
    assert (reply.state, incident.state) == (ReplyState.DISCARDED, IncidentState.IN_PROGRESS)
    assert _audit("reply.discard", reply).exists()
    # A new reply can start.
    assert drafts.start_draft(actor=cm, incident=incident, now=LATER).state == ReplyState.DRAFT
