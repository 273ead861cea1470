"""The publication checklist of the approved statement: each channel marked published by a
person with its link, or published by Calma through the channel's platform where a publishing
account can post; retries, failures and the sweep of stuck publications.

A connector publication is at-least-once and never posts twice. The claim (PENDING or FAILED
with an account, or PUBLISHING not in flight → PUBLISHING, one more attempt) commits before the
HTTP call; Mastodon gets the publication's stable Idempotency-Key on every post; on Bluesky a
retried post first looks for the account's own post with the same text (its author feed).
`publish_attempts` names the claim: only the attempt that holds it records the outcome. A
PUBLISHING publication whose attempt is in flight has `publishing_started_at`; one waiting for
its retry has none. `sweep_stuck_publications` re-queues what a dead worker left behind.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop
from kombu.exceptions import KombuError

from crisis.incidents.models import reaches_platforms
from crisis.replies.accounts import account_config, credentials_present
from crisis.replies.models import PublishingAccount
from crisis.rooms import access
from crisis.rooms.models import (
    Crisis,
    Publication,
    PublicationState,
    StatementState,
)
from crisis.rooms.statement import Channel, audit, channel_text, channels_of
from monitoring.connectors import writing
from monitoring.connectors.base import (
    ConnectorError,
    PermanentError,
    RateLimited,
    TransientError,
)

logger = logging.getLogger(__name__)

PUBLISH_TASK = "crisis.rooms.tasks.publish_statement"
# A publication in flight longer than this lost its worker; a queued one lost its message.
STUCK_AFTER = timedelta(minutes=5)
# Claims a publication may take before the sweep stops re-queueing it and records a failure.
MAX_ATTEMPTS = 12
SWEEP_BATCH = 200
# Platforms whose post endpoint honours an idempotency key: a retry posts again with the same
# key. Elsewhere a retry looks for the account's own post first.
IDEMPOTENT_PLATFORMS = frozenset({"mastodon"})
SAFE_URL = URLValidator(schemes=["http", "https"])
_KEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://calma.example/statement-publication")

# What a person reads as the publication's last error (msgids, translated when shown). Never
# the platform's own message, which may carry a URL.
ERROR_RETRYING = gettext_noop("The platform did not answer; Calma is trying again.")
ERROR_RATE_LIMITED_RETRYING = gettext_noop(
    "The platform asked Calma to slow down; Calma is trying again."
)
ERROR_UNAVAILABLE = gettext_noop(
    "The platform did not answer after several attempts. Try again later."
)
ERROR_RATE_LIMITED = gettext_noop(
    "The platform limits how often the account may post. Try again later."
)
ERROR_CREDENTIALS = gettext_noop(
    "The platform refused the account's credentials: an admin should check the publishing account."
)
ERROR_REFUSED = gettext_noop("The platform refused the statement.")
ERROR_CANNOT_POST = gettext_noop(
    "Calma can no longer post with this account: publish the statement by hand."
)
ERROR_NOT_IN_FORCE = gettext_noop(
    "This version of the statement is no longer the approved one: it was not published."
)


class PublishingError(Exception):
    """A refused publishing action, in the reader's language (shown as a message)."""


# --- Who can post what -------------------------------------------------------------------------


def idempotency_key(publication: Publication) -> str:
    """Stable for the publication: every attempt to post it sends the same key."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"publication:{publication.pk}"))


def account_can_post(account: PublishingAccount | None, platform: str) -> bool:
    return bool(
        account is not None
        and account.enabled
        and account.platform == platform
        and writing.can_post_status(platform)
        and credentials_present(account)
    )


def posting_account(platform: str) -> PublishingAccount | None:
    """The first enabled account of the platform whose secrets are set, or None."""
    if not platform or not writing.can_post_status(platform):
        return None
    for account in PublishingAccount.objects.filter(platform=platform, enabled=True).order_by("pk"):
        if credentials_present(account):
            return account
    return None


def channel_for(publication: Publication, crisis: Crisis) -> Channel | None:
    return next(
        (channel for channel in channels_of(crisis) if channel.key == publication.channel), None
    )


def safe_url(url: str) -> str:
    """The link if it is http(s), else ""."""
    url = (url or "").strip()
    if not url or len(url) > Publication._meta.get_field("url").max_length:
        return ""
    try:
        SAFE_URL(url)
    except ValidationError:
        return ""
    return url


def _crisis_of(publication: Publication) -> Crisis:
    return publication.version.statement.crisis


def _load(publication_id: int) -> Publication:
    return Publication.objects.select_related(
        "version__statement__crisis__protocol_version", "account"
    ).get(pk=publication_id)


def _locked(publication: Publication) -> Publication:
    """The publication as stored now, its crisis locked first (the statement's lock order)."""
    crisis_id = (
        Publication.objects.filter(pk=publication.pk)
        .values_list("version__statement__crisis_id", flat=True)
        .first()
    )
    if crisis_id is None:
        raise PublishingError(gettext("This line of the checklist no longer exists."))
    Crisis.objects.select_for_update(of=("self",)).filter(pk=crisis_id).first()
    return (
        Publication.objects.select_for_update(of=("self",))
        .select_related("version__statement__crisis__protocol_version", "account")
        .get(pk=publication.pk)
    )


def _require_in_force(publication: Publication) -> None:
    if publication.version.state != StatementState.APPROVED:
        raise PublishingError(
            gettext("Version %(number)s is no longer the approved statement.")
            % {"number": publication.version.number}
        )


# --- What people do ----------------------------------------------------------------------------


def mark_published(
    *, actor: AbstractBaseUser, publication: Publication, url: str, now: datetime
) -> Publication:
    """A person published the statement on the channel themselves: record it with its link
    (http or https only)."""
    link = safe_url(url)
    if not link:
        raise ValidationError(gettext("Give the link, starting with http:// or https://."))
    with transaction.atomic():
        publication = _locked(publication)
        crisis = _crisis_of(publication)
        access.require_act(actor, crisis)
        _require_in_force(publication)
        if publication.state not in (PublicationState.PENDING, PublicationState.FAILED):
            raise PublishingError(
                gettext("This channel is %(state)s: it cannot be marked published now.")
                % {"state": str(publication.get_state_display()).lower()}
            )
        before = publication.state
        publication.state = PublicationState.PUBLISHED
        publication.url = link
        publication.external_id = ""
        publication.account = None
        publication.published_at = now
        publication.published_by = actor
        publication.publishing_started_at = None
        publication.last_error = ""
        publication.save()
        audit(
            actor,
            "crisis.statement_published",
            crisis,
            publication.version,
            before={"state": before},
            after={
                "publication": publication.pk,
                "channel": publication.channel,
                "url": link,
                "by_hand": True,
            },
        )
    return publication


def publish_through_connector(
    *, actor: AbstractBaseUser, publication: Publication, now: datetime
) -> Publication:
    """Have Calma post the statement on the channel's platform (or post it again after a
    failure): the publishing account is fixed and the post queued once committed."""
    with transaction.atomic():
        publication = _locked(publication)
        crisis = _crisis_of(publication)
        access.require_act(actor, crisis)
        _require_in_force(publication)
        if publication.state not in (PublicationState.PENDING, PublicationState.FAILED):
            raise PublishingError(
                gettext("This channel is %(state)s: there is nothing to publish.")
                % {"state": str(publication.get_state_display()).lower()}
            )
        if publication.state == PublicationState.PENDING and publication.account_id:
            raise PublishingError(gettext("Calma is already publishing on this channel."))
        if not reaches_platforms(crisis.origin):
            raise PublishingError(
                gettext(
                    "Calma never posts a drill's statement on a platform: mark it published "
                    "by hand."
                )
            )
        channel = channel_for(publication, crisis)
        account = posting_account(channel.platform) if channel else None
        if account is None:
            raise PublishingError(
                gettext(
                    "Calma cannot post on this channel: publish it by hand and mark it "
                    "published with its link."
                )
            )
        text = channel_text(publication.version, channel)
        if text.empty or text.over_limit:
            raise PublishingError(
                gettext("The text for %(channel)s does not fit the channel.")
                % {"channel": channel.label}
            )
        before = {"state": publication.state, "error": publication.last_error}
        publication.account = account
        publication.queued_at = now
        publication.save(update_fields=["account", "queued_at"])
        audit(
            actor,
            "crisis.statement_publish_requested",
            crisis,
            publication.version,
            before=before,
            after={
                "publication": publication.pk,
                "channel": publication.channel,
                "account": account.pk,
            },
        )
        queue_publish_after_commit(publication.pk)
    return publication


def queue_publish_after_commit(publication_id: int) -> None:
    transaction.on_commit(lambda: queue_publish(publication_id), robust=True)


def queue_publish(publication_id: int) -> bool:
    """Enqueue the post by task name; False (one log line) when the broker is unreachable:
    the sweep queues it again."""
    try:
        current_app.send_task(PUBLISH_TASK, args=[publication_id])
    except (KombuError, OSError) as error:
        logger.warning("publication %s not enqueued (%s)", publication_id, error)
        return False
    return True


# --- The post (task body) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    publication: Publication
    attempt: int  # the publication's publish_attempts once claimed: names this attempt


def publish_statement(
    *, publication_id: int, now: datetime, final_attempt: bool = False
) -> Publication | None:
    """Post one line of the checklist through its account. Idempotent: a publication already
    published, or in flight in another attempt, is left alone (returns None). A transient
    failure hands the claim back (still PUBLISHING) and re-raises for the task to retry,
    unless `final_attempt`, when it is recorded FAILED like a permanent one."""
    claim = _claim(publication_id, now)
    if claim is None:
        return None
    publication = claim.publication
    crisis = _crisis_of(publication)
    if publication.version.state != StatementState.APPROVED:
        _fail(claim, now, ERROR_NOT_IN_FORCE, None)
        return _fresh(publication)
    channel = channel_for(publication, crisis)
    account = publication.account
    live = reaches_platforms(crisis.origin)
    if channel is None or not live or not account_can_post(account, channel.platform):
        _hand_to_person(claim, now)
        return _fresh(publication)
    text = channel_text(publication.version, channel).text
    config = account_config(account)
    try:
        posted, how = _deliver(publication, config, text, retrying=claim.attempt > 1)
    except RateLimited as error:
        if final_attempt:
            _fail(claim, now, ERROR_RATE_LIMITED, error)
            return _fresh(publication)
        _hand_back(claim, now, ERROR_RATE_LIMITED_RETRYING)
        raise
    except PermanentError as error:
        _fail(claim, now, _permanent_message(error), error)
        return _fresh(publication)
    except (TransientError, ConnectorError) as error:
        if final_attempt:
            _fail(claim, now, ERROR_UNAVAILABLE, error)
            return _fresh(publication)
        _hand_back(claim, now, ERROR_RETRYING)
        raise
    return _record_published(claim, now, posted=posted, how=how)


def _fresh(publication: Publication) -> Publication:
    publication.refresh_from_db()
    return publication


def _claim(publication_id: int, now: datetime) -> Claim | None:
    """PENDING or FAILED with an account, or PUBLISHING and not in flight (waiting for its
    retry, or stuck past STUCK_AFTER) → PUBLISHING, one more attempt. Committed before the
    call."""
    claimable = (
        Q(state__in=[PublicationState.PENDING, PublicationState.FAILED], account__isnull=False)
        | Q(state=PublicationState.PUBLISHING, publishing_started_at__isnull=True)
        | Q(state=PublicationState.PUBLISHING, publishing_started_at__lt=now - STUCK_AFTER)
    )
    with transaction.atomic():
        before = (
            Publication.objects.filter(pk=publication_id).values_list("state", flat=True).first()
        )
        claimed = Publication.objects.filter(claimable, pk=publication_id).update(
            state=PublicationState.PUBLISHING,
            publishing_started_at=now,
            publish_attempts=F("publish_attempts") + 1,
        )
        if not claimed:
            return None
        publication = _load(publication_id)
        audit(
            None,
            "crisis.statement_publish_started",
            _crisis_of(publication),
            publication.version,
            before={"state": before},
            after={
                "publication": publication.pk,
                "channel": publication.channel,
                "attempt": publication.publish_attempts,
                "account": publication.account_id,
            },
        )
    return Claim(publication=publication, attempt=publication.publish_attempts)


def _deliver(
    publication: Publication, config: writing.AccountConfig, text: str, *, retrying: bool
) -> tuple[writing.Posted, str]:
    """The platform call: after an attempt whose outcome is unknown, on a platform without an
    idempotency key, look for our own post with this text first. Returns what was posted and
    how ("found" or "posted")."""
    if retrying and config.platform not in IDEMPOTENT_PLATFORMS:
        found = writing.find_own_status(config, text=text)
        if found is not None:
            return found, "found"
    posted = writing.post_status(config, text, idempotency_key=idempotency_key(publication))
    return posted, "posted"


def _record_published(
    claim: Claim, now: datetime, *, posted: writing.Posted, how: str
) -> Publication | None:
    publication = claim.publication
    link = safe_url(posted.url)
    external_id = (posted.external_id or "")[
        : Publication._meta.get_field("external_id").max_length
    ]
    with transaction.atomic():
        changed = Publication.objects.filter(
            pk=publication.pk,
            state=PublicationState.PUBLISHING,
            publish_attempts=claim.attempt,
        ).update(
            state=PublicationState.PUBLISHED,
            url=link,
            external_id=external_id,
            published_at=now,
            publishing_started_at=None,
            last_error="",
        )
        if not changed:
            return None
        audit(
            None,
            "crisis.statement_published",
            _crisis_of(publication),
            publication.version,
            before={"state": PublicationState.PUBLISHING},
            after={
                "publication": publication.pk,
                "channel": publication.channel,
                "url": link,
                "external_id": external_id,
                "account": publication.account_id,
                "how": how,
                "attempts": claim.attempt,
                "by_hand": False,
            },
        )
    publication.refresh_from_db()
    return publication


def _hand_back(claim: Claim, now: datetime, message: str) -> None:
    """A transient failure: still PUBLISHING, no longer in flight, waiting for the retry."""
    Publication.objects.filter(
        pk=claim.publication.pk,
        state=PublicationState.PUBLISHING,
        publish_attempts=claim.attempt,
    ).update(publishing_started_at=None, last_error=message, queued_at=now)


def _hand_to_person(claim: Claim, now: datetime) -> None:
    """The account can no longer post (disabled, secret removed): back to the checklist as a
    line to publish by hand."""
    publication = claim.publication
    with transaction.atomic():
        changed = Publication.objects.filter(
            pk=publication.pk,
            state=PublicationState.PUBLISHING,
            publish_attempts=claim.attempt,
        ).update(
            state=PublicationState.PENDING,
            account=None,
            publishing_started_at=None,
            last_error=ERROR_CANNOT_POST,
        )
        if changed:
            audit(
                None,
                "crisis.statement_publish_failed",
                _crisis_of(publication),
                publication.version,
                before={"state": PublicationState.PUBLISHING, "account": publication.account_id},
                after={
                    "publication": publication.pk,
                    "channel": publication.channel,
                    "state": PublicationState.PENDING,
                    "error": "account_cannot_post",
                },
            )


def _fail(claim: Claim, now: datetime, message: str, error: Exception | None) -> None:
    publication = claim.publication
    with transaction.atomic():
        changed = Publication.objects.filter(
            pk=publication.pk,
            state=PublicationState.PUBLISHING,
            publish_attempts=claim.attempt,
        ).update(
            state=PublicationState.FAILED,
            publishing_started_at=None,
            last_error=message,
        )
        if changed:
            audit(
                None,
                "crisis.statement_publish_failed",
                _crisis_of(publication),
                publication.version,
                before={"state": PublicationState.PUBLISHING},
                after={
                    "publication": publication.pk,
                    "channel": publication.channel,
                    "state": PublicationState.FAILED,
                    "attempts": claim.attempt,
                    "error": message,
                    "detail": error_detail(error),
                },
            )


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def _status_of(error: Exception | None) -> int | None:
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return status
    match = _HTTP_STATUS.search(str(error or ""))
    return int(match.group(1)) if match else None


def error_detail(error: Exception | None) -> str:
    """For the audit log: the error's kind and HTTP status, never its text."""
    if error is None:
        return ""
    status = _status_of(error)
    return type(error).__name__ + (f" HTTP {status}" if status else "")


def _permanent_message(error: PermanentError) -> str:
    if _status_of(error) in (401, 403):
        return ERROR_CREDENTIALS
    return ERROR_REFUSED


# --- The sweep ---------------------------------------------------------------------------------


def sweep_stuck_publications(*, now: datetime) -> int:
    """Beat: publications whose worker died (in flight past STUCK_AFTER), whose retry was lost
    (waiting past it) or that never got their task (an account fixed, not claimed) are queued
    again; the post reuses its idempotency key or finds its own post, so nothing is published
    twice. One that used up MAX_ATTEMPTS is recorded as failed."""
    stale = now - STUCK_AFTER
    stuck = Publication.objects.filter(
        Q(state=PublicationState.PUBLISHING, publishing_started_at__lt=stale)
        | Q(state=PublicationState.PUBLISHING, publishing_started_at__isnull=True)
        | Q(state=PublicationState.PENDING, account__isnull=False),
        Q(queued_at__lt=stale) | Q(queued_at__isnull=True),
    ).order_by("queued_at", "pk")
    queued = 0
    for publication_id, state, attempts in stuck.values_list("pk", "state", "publish_attempts")[
        :SWEEP_BATCH
    ]:
        if state == PublicationState.PUBLISHING and attempts >= MAX_ATTEMPTS:
            _fail(Claim(_load(publication_id), attempts), now, ERROR_UNAVAILABLE, None)
            continue
        Publication.objects.filter(
            pk=publication_id, state=state, publish_attempts=attempts
        ).update(queued_at=now)
        if queue_publish(publication_id):
            queued += 1
    return queued


# --- What the checklist shows -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    publication: Publication
    channel: Channel | None
    label: str
    link: str  # http(s) only
    can_publish: bool  # Calma can post it now (through an account)
    can_mark: bool  # a person may mark it published
    retrying: bool  # PUBLISHING, waiting for a retry (or in flight)


def checklist(publications: list[Publication], crisis: Crisis, viewer) -> list[ChecklistLine]:
    """The lines of the approved version's checklist, in the protocol's channel order."""
    channels = {channel.key: channel for channel in channels_of(crisis)}
    order = list(channels)
    acting = bool(viewer is not None and access.can_act(viewer, crisis))
    live = reaches_platforms(crisis.origin)
    accounts: dict[str, bool] = {}
    lines = []
    for publication in sorted(
        publications,
        key=lambda p: (order.index(p.channel) if p.channel in order else len(order), p.channel),
    ):
        channel = channels.get(publication.channel)
        platform = channel.platform if channel else ""
        if platform not in accounts:
            accounts[platform] = posting_account(platform) is not None
        open_line = publication.state in (PublicationState.PENDING, PublicationState.FAILED)
        queued = publication.state == PublicationState.PENDING and publication.account_id
        lines.append(
            ChecklistLine(
                publication=publication,
                channel=channel,
                label=channel.label if channel else publication.channel,
                link=safe_url(publication.url),
                can_publish=acting and live and open_line and not queued and accounts[platform],
                can_mark=acting and open_line,
                retrying=publication.state == PublicationState.PUBLISHING,
            )
        )
    return lines
