"""Take it private (practice 4): the short public acknowledgement, the private follow-up with
its own owner, due date and outcome, and the personal data it needs, kept apart from the audit
log and erased after the retention period an admin sets."""

import logging
import re
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_noop

from crisis.incidents import services as incident_services
from crisis.incidents.models import Incident, IncidentState
from crisis.incidents.page import can_view
from crisis.incidents.transitions import (
    InvalidTransition,
    can_act,
    is_allowed,
    is_supervisor,
    require_can_act,
    works_incidents,
)
from crisis.notifications.models import NotificationKind
from crisis.replies.models import (
    LIVE_DRAFT_STATES,
    ContactDetails,
    FollowUp,
    FollowUpChannel,
    FollowUpState,
    Reply,
    ReplyPurpose,
    RetentionSettings,
)
from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from protocols.schema import section

logger = logging.getLogger(__name__)

DEFAULT_FOLLOW_UP_HOURS = 24
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650
# A phone number as people type it: digits, spaces, "+", "-" and brackets, 6 to 20 digits.
PHONE_CHARACTERS = re.compile(r"^[0-9 +\-()]+$")
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 6, 20
NOTE_MAX_LENGTH = 2000
# Free text (a note, an outcome) may carry an address or a number typed by hand: the audit
# copy never does, and erasure blanks them in the follow-up too.
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d ()\-]{5,}\d")
REDACTED = "[…]"
ERASE_BATCH = 500


# --- input -----------------------------------------------------------------------------------


def clean_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 254:
        raise ValidationError(gettext("Enter a valid e-mail address."), code="email")
    try:
        validate_email(value)
    except ValidationError as invalid:
        raise ValidationError(gettext("Enter a valid e-mail address."), code="email") from invalid
    return value


def clean_phone(value: str) -> str:
    """Digits, spaces, "+", "-" and brackets, with 6 to 20 digits; spaces collapsed."""
    value = " ".join((value or "").split())
    if not value:
        return ""
    digits = sum(character.isdigit() for character in value)
    if (
        not PHONE_CHARACTERS.match(value)
        or not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS
        or len(value) > 40
    ):
        raise ValidationError(
            gettext("Enter a phone number: digits, spaces, +, - and brackets, 6 to 20 digits."),
            code="phone",
        )
    return value


def redact_contact_details(text: str) -> str:
    """The text with anything that looks like an e-mail address or a phone number replaced."""
    text = _EMAIL_IN_TEXT.sub(REDACTED, text or "")

    def phone(match: re.Match) -> str:
        digits = sum(character.isdigit() for character in match.group())
        return REDACTED if digits >= PHONE_MIN_DIGITS + 1 else match.group()

    return _PHONE_IN_TEXT.sub(phone, text)


def _clean_text(value: str, *, required: bool, what: str) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationError(gettext("Write the %(what)s.") % {"what": what}, code="required")
    if len(value) > NOTE_MAX_LENGTH:
        raise ValidationError(
            gettext("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH},
            code="max_length",
        )
    return value


# --- reading ---------------------------------------------------------------------------------


def follow_up_due_hours(incident: Incident) -> int:
    hours = section(incident.protocol_version.config, "replies").get("follow_up_due_hours")
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        return DEFAULT_FOLLOW_UP_HOURS
    return hours if hours > 0 else DEFAULT_FOLLOW_UP_HOURS


def default_due_at(incident: Incident, *, now: datetime) -> datetime:
    return now + timedelta(hours=follow_up_due_hours(incident))


def open_follow_up(incident: Incident) -> FollowUp | None:
    return (
        FollowUp.objects.filter(incident=incident, state=FollowUpState.OPEN)
        .select_related("owner", "contact")
        .first()
    )


def can_see_contact(viewer: AbstractBaseUser | AnonymousUser | None, follow_up: FollowUp) -> bool:
    """The follow-up's owner, the incident's owner and supervisors see the e-mail or phone;
    nobody sees them in lists, exports or notifications."""
    if not works_incidents(viewer):
        return False
    return (
        viewer.pk == follow_up.owner_id
        or viewer.pk == follow_up.incident.owner_id
        or is_supervisor(viewer)
    )


def can_complete(viewer: AbstractBaseUser | AnonymousUser | None, follow_up: FollowUp) -> bool:
    if not works_incidents(viewer):
        return False
    return viewer.pk == follow_up.owner_id or can_act(viewer, follow_up.incident)


def my_open_follow_ups(user: AbstractBaseUser) -> QuerySet[FollowUp]:
    """The user's open follow-ups, the most overdue first (no contact details loaded)."""
    return (
        FollowUp.objects.filter(owner=user, state=FollowUpState.OPEN)
        .select_related("incident", "incident__author")
        .defer("note", "outcome")
        .order_by("due_at", "id")
    )


def follow_up_owner_choices(incident: Incident) -> QuerySet:
    """People who may own the incident's follow-up: active managers of its team (of any team
    when it has none) and supervisors."""
    from django.contrib.auth import get_user_model

    works = Q(
        groups__permissions__content_type__app_label="crisis",
        groups__permissions__codename=Perm.TRIAGE.split(".", 1)[1],
    )
    supervises = Q(
        groups__permissions__content_type__app_label="crisis",
        groups__permissions__codename=Perm.SUPERVISE_INCIDENTS.split(".", 1)[1],
    )
    users = get_user_model().objects.filter(is_active=True).filter(works)
    if incident.team_id is not None:
        supervisors = get_user_model().objects.filter(is_active=True).filter(supervises)
        users = users.filter(Q(profile__team_id=incident.team_id) | Q(pk__in=supervisors))
    return users.distinct().order_by("username")


def retention_settings() -> RetentionSettings:
    """The one settings row (created with the default period on first use)."""
    row = RetentionSettings.objects.order_by("pk").first()
    if row is None:
        row, _created = RetentionSettings.objects.get_or_create(
            pk=1, defaults={"contact_retention_days": DEFAULT_RETENTION_DAYS}
        )
    return row


# --- take private ----------------------------------------------------------------------------


def take_private(
    *,
    actor: AbstractBaseUser,
    incident: Incident,
    channel: str,
    owner: AbstractBaseUser | None = None,
    due_at: datetime | None = None,
    note: str = "",
    email: str = "",
    phone: str = "",
    now: datetime,
) -> FollowUp:
    """Open the private follow-up of an incident and draft its public acknowledgement (from
    the protocol's acknowledgement template, in the incident's language), which then goes the
    usual way: submitted, approved where the protocol says so, sent. The incident moves to
    "private follow-up" once the acknowledgement is out (`after_acknowledgement_sent`)."""
    if channel not in FollowUpChannel.values:
        raise ValidationError(gettext("Choose one of the listed channels."), code="channel")
    email, phone = clean_email(email), clean_phone(phone)
    note = _clean_text(note, required=False, what=gettext("note"))
    owner = owner or actor
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("author", "protocol_version", "first_mention")
            .get(pk=incident.pk)
        )
        require_can_act(actor, incident)
        if not (owner.is_active and works_incidents(owner) and can_view(owner, incident)):
            raise InvalidTransition(
                gettext("%(user)s cannot own a follow-up of incident #%(id)s.")
                % {"user": owner.get_username(), "id": incident.pk}
            )
        if incident.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
            raise InvalidTransition(
                gettext("Incident #%(id)s is %(state)s: reopen it before taking it private.")
                % {"id": incident.pk, "state": str(IncidentState(incident.state).label).lower()}
            )
        if FollowUp.objects.filter(incident=incident, state=FollowUpState.OPEN).exists():
            raise InvalidTransition(
                gettext("Incident #%(id)s already has an open private follow-up.")
                % {"id": incident.pk}
            )
        if Reply.objects.filter(incident=incident, state__in=LIVE_DRAFT_STATES).exists():
            raise InvalidTransition(
                gettext(
                    "Incident #%(id)s already has a reply in the works: send or discard it "
                    "before taking the conversation private."
                )
                % {"id": incident.pk}
            )
        if due_at is None:
            due_at = default_due_at(incident, now=now)
        if due_at <= now:
            raise ValidationError(gettext("The follow-up must be due in the future."), code="due")
        contact = (
            ContactDetails.objects.create(email=email, phone=phone, created_at=now)
            if email or phone
            else None
        )
        follow_up = FollowUp.objects.create(
            incident=incident,
            channel=channel,
            contact=contact,
            owner=owner,
            due_at=due_at,
            note=note,
            created_by=actor,
            created_at=now,
        )
        reply = _draft_acknowledgement(actor=actor, incident=incident, now=now)
        record_audit_event(
            actor=actor,
            verb="follow_up.open",
            target=follow_up,
            after={
                "incident": incident.pk,
                "channel": channel,
                "owner": owner.pk,
                "due_at": due_at.isoformat(),
                # A reference only: the address or number itself stays in ContactDetails.
                "contact_id": contact.pk if contact else None,
                "acknowledgement": reply.pk,
                "note": redact_contact_details(note),
            },
        )
        if owner.pk != actor.pk:
            incident_services.notify_after_commit(
                user_ids=[owner.pk],
                kind=NotificationKind.ASSIGNED,
                title=(
                    gettext_noop("You own the private follow-up of incident #%(id)s"),
                    {"id": incident.pk},
                ),
                incident=incident,
                dedupe_key=f"follow_up:{follow_up.pk}:owner:{owner.pk}",
                now=now,
            )
    return follow_up


def _draft_acknowledgement(*, actor: AbstractBaseUser, incident: Incident, now: datetime) -> Reply:
    """The acknowledgement, drafted by the drafts slice from the protocol's first
    acknowledgement template in the incident's language, variables filled."""
    from crisis.replies import drafts

    return drafts.start_draft(
        actor=actor,
        incident=incident,
        now=now,
        visibility="public",
        purpose=ReplyPurpose.ACKNOWLEDGEMENT,
    )


def after_acknowledgement_sent(*, reply: Reply, now: datetime) -> None:
    """The public acknowledgement is out (called by sending inside its transaction, after the
    first response was recorded): the incident moves to "private follow-up" when it has an open
    follow-up. Never raises for a move the state table refuses: the reply is already public."""
    if reply.purpose != ReplyPurpose.ACKNOWLEDGEMENT:
        return
    if not FollowUp.objects.filter(
        incident_id=reply.incident_id, state=FollowUpState.OPEN
    ).exists():
        return
    incident = Incident.objects.get(pk=reply.incident_id)
    if incident.state == IncidentState.PRIVATE_FOLLOW_UP:
        return
    try:
        incident_services.enter_private_follow_up(actor=None, incident=incident, now=now)
    except InvalidTransition:
        logger.warning(
            "incident %s: acknowledgement %s sent while %s; not moved to private follow-up",
            incident.pk,
            reply.pk,
            incident.state,
        )


def complete_follow_up(
    *,
    actor: AbstractBaseUser,
    follow_up: FollowUp,
    outcome: str,
    resolve_incident: bool = True,
    now: datetime,
) -> FollowUp:
    """Record the outcome of the private conversation; resolve the incident too when asked and
    the actor may (and nothing else is still open on it)."""
    outcome = _clean_text(outcome, required=True, what=gettext("outcome"))
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("incident")
            .get(pk=follow_up.pk)
        )
        if not can_complete(actor, follow_up):
            raise PermissionDenied(
                gettext("You cannot complete the follow-up of incident #%(id)s.")
                % {"id": follow_up.incident_id}
            )
        if follow_up.state != FollowUpState.OPEN:
            raise InvalidTransition(gettext("This follow-up is already completed."))
        follow_up.state = FollowUpState.DONE
        follow_up.outcome = outcome
        follow_up.completed_at = now
        follow_up.save(update_fields=["state", "outcome", "completed_at"])
        record_audit_event(
            actor=actor,
            verb="follow_up.complete",
            target=follow_up,
            before={"state": FollowUpState.OPEN},
            after={
                "state": FollowUpState.DONE,
                "incident": follow_up.incident_id,
                "outcome": redact_contact_details(outcome),
                "resolve_incident": resolve_incident,
            },
        )
        incident = follow_up.incident
        if (
            resolve_incident
            and can_act(actor, incident)
            and is_allowed(incident.state, IncidentState.RESOLVED)
            and not FollowUp.objects.filter(incident=incident, state=FollowUpState.OPEN).exists()
        ):
            follow_up.incident = incident_services.resolve_incident(
                actor=actor,
                incident=incident,
                note=redact_contact_details(outcome)[:500],
                now=now,
            )
    return follow_up


# --- sweeps ----------------------------------------------------------------------------------


def notify_overdue_follow_ups(*, now: datetime) -> int:
    """Tell the owner of each open follow-up past its due time, once."""
    with transaction.atomic():
        overdue = list(
            FollowUp.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(state=FollowUpState.OPEN, due_at__lt=now, overdue_notified_at__isnull=True)
            .select_related("incident")
            .order_by("due_at", "id")[:500]
        )
        if not overdue:
            return 0
        FollowUp.objects.filter(pk__in=[item.pk for item in overdue]).update(
            overdue_notified_at=now
        )
        for follow_up in overdue:
            incident_services.notify_after_commit(
                user_ids=[follow_up.owner_id],
                kind=NotificationKind.FOLLOW_UP_DUE,
                title=(
                    gettext_noop("The private follow-up of incident #%(id)s is overdue"),
                    {"id": follow_up.incident_id},
                ),
                incident=follow_up.incident,
                dedupe_key=f"follow_up:{follow_up.pk}:overdue",
                now=now,
            )
    return len(overdue)


def expired_contacts(*, now: datetime, days: int) -> QuerySet[ContactDetails]:
    """Contact details kept longer than `days` after their follow-up was completed, after its
    incident was resolved or closed, or (left without a follow-up) after they were given."""
    cutoff = now - timedelta(days=days)
    return ContactDetails.objects.filter(erased_at__isnull=True).filter(
        Q(follow_up__state=FollowUpState.DONE, follow_up__completed_at__lt=cutoff)
        | Q(
            follow_up__incident__state=IncidentState.RESOLVED,
            follow_up__incident__resolved_at__lt=cutoff,
        )
        | Q(
            follow_up__incident__state=IncidentState.CLOSED,
            follow_up__incident__closed_at__lt=cutoff,
        )
        | Q(follow_up__isnull=True, created_at__lt=cutoff)
    )


def erase_expired_contacts(*, now: datetime) -> int:
    """Blank the e-mail addresses and phone numbers past the retention period (and any typed
    into their follow-ups' notes and outcomes); the audit log records how many, never which."""
    days = retention_settings().contact_retention_days
    erased = 0
    while True:
        with transaction.atomic():
            ids = list(
                expired_contacts(now=now, days=days)
                .select_for_update(of=("self",), skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:ERASE_BATCH]
            )
            if not ids:
                break
            count = ContactDetails.objects.filter(pk__in=ids, erased_at__isnull=True).update(
                email="", phone="", erased_at=now
            )
            for follow_up in FollowUp.objects.filter(contact_id__in=ids).only(
                "pk", "note", "outcome"
            ):
                note = redact_contact_details(follow_up.note)
                outcome = redact_contact_details(follow_up.outcome)
                if (note, outcome) != (follow_up.note, follow_up.outcome):
                    FollowUp.objects.filter(pk=follow_up.pk).update(note=note, outcome=outcome)
            record_audit_event(
                actor=None,
                verb="follow_up.erase_contacts",
                after={"erased": count, "retention_days": days},
            )
            erased += count
        if len(ids) < ERASE_BATCH:
            break
    return erased


# --- settings --------------------------------------------------------------------------------


def update_retention(
    *, actor: AbstractBaseUser, contact_retention_days: int, now: datetime
) -> RetentionSettings:
    """An admin sets how long contact details are kept after a follow-up."""
    if not (actor.is_active and actor.has_perm(Perm.MANAGE_PEOPLE)):
        raise PermissionDenied(Perm.MANAGE_PEOPLE)
    if not 1 <= int(contact_retention_days) <= MAX_RETENTION_DAYS:
        raise ValidationError(
            gettext("Choose between 1 and %(max)s days.") % {"max": MAX_RETENTION_DAYS},
            code="retention",
        )
    with transaction.atomic():
        row = retention_settings()
        row = RetentionSettings.objects.select_for_update().get(pk=row.pk)
        before = row.contact_retention_days
        if before == contact_retention_days:
            return row
        row.contact_retention_days = contact_retention_days
        row.save()
        record_audit_event(
            actor=actor,
            verb="retention.update",
            target=row,
            before={"contact_retention_days": before},
            after={"contact_retention_days": contact_retention_days},
        )
    return row
