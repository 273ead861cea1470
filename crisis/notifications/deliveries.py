"""Outgoing webhooks: endpoints admins register, and deliveries written in the notification's
transaction, sent at least once with a stable event id, retried with back-off and swept.

A delivery is claimed by a conditional UPDATE (a lease) before its POST, so two workers never
send it at the same time; the POST runs outside any transaction. A receiver may still see an
event twice (it accepted it and the answer was lost): it drops the copy by event id.
"""

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat, Left
from django.urls import reverse
from django.utils.translation import gettext as _

from crisis.notifications import webhooks
from crisis.notifications.models import (
    TEST_EVENT_KIND,
    DeliveryState,
    Notification,
    NotificationKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSettings,
)
from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from monitoring.credentials import PREFIX, resolve_credentials

LAST_ERROR_MAX_LENGTH = 1000
RESPONSE_EXCERPT_LENGTH = 200


def _config() -> dict[str, Any]:
    return settings.NOTIFICATIONS


# --- The event ---------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup; everything else is plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def event_payload(
    *,
    event_id: uuid.UUID,
    kind: str,
    title: str,
    url: str,
    created_at: datetime,
    recipient: str,
) -> dict[str, Any]:
    """Slack-compatible JSON: `text` for Slack (and its clones), `event` for everyone else."""
    text = slack_escape(title)
    if url:
        text = f"<{url}|{text}>"
    return {
        "text": text,
        "event": {
            "id": str(event_id),
            "kind": kind,
            "title": title,
            "url": url,
            "created_at": created_at.isoformat(),
            "recipient": recipient,
        },
    }


def body_of(delivery: WebhookDelivery) -> bytes:
    """The bytes signed and sent: the same on every attempt (sorted keys, compact)."""
    return json.dumps(
        delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


# --- Writing deliveries (inside notify's transaction) ----------------------------------------


def create_deliveries(*, notifications: Sequence[Notification], kind: str, now: datetime) -> None:
    """A delivery per enabled endpoint that receives the kind, per notification; handed to a
    worker after the commit. A repeated call (notify retried with the same dedupe key) adds
    nothing and hands over again only what is still pending."""
    from crisis.notifications.services import absolute_link

    if not notifications:
        return
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(enabled=True)
        if endpoint.receives(kind)
    ]
    if not endpoints:
        return
    sweep_after = now + timedelta(seconds=_config()["WEBHOOK_SWEEP_AFTER_SECONDS"])
    rows = []
    for notification in notifications:
        for endpoint in endpoints:
            event_id = uuid.uuid4()
            payload = event_payload(
                event_id=event_id,
                kind=kind,
                title=notification.title,
                url=absolute_link(notification.url),
                created_at=notification.created_at,
                recipient=notification.user.get_username(),
            )
            rows.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    notification=notification,
                    event_id=event_id,
                    kind=kind,
                    payload=payload,
                    created_at=now,
                    sweep_after=sweep_after,
                )
            )
    # The partial unique constraint (endpoint, notification), not a check-then-insert.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    pending = WebhookDelivery.objects.filter(
        notification__in=notifications, endpoint__in=endpoints, state=DeliveryState.PENDING
    ).values_list("pk", flat=True)
    deliver_after_commit(list(pending))


def deliver_after_commit(delivery_ids: Sequence[int]) -> None:
    from crisis.notifications.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        # A broker that is down loses the hand-off, not the delivery: the sweeper re-sends.
        transaction.on_commit(lambda pk=delivery_id: deliver_webhook.delay(pk), robust=True)


# --- Sending one delivery ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # "delivered", "failed", "pending" (retry in retry_in seconds) or "skipped"
    retry_in: float | None = None


SKIPPED = Outcome("skipped")


def send_delivery(*, delivery_id: int, now: datetime) -> Outcome:
    """One attempt at one delivery. Delivered on 2xx; failed for good on a refused address, a
    redirect or a 4xx other than 429; otherwise still pending with the back-off to wait."""
    config = _config()
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return SKIPPED
    if _too_old(delivery, now):
        return _give_up(delivery, now)
    endpoint = delivery.endpoint
    if not endpoint.enabled and delivery.kind != TEST_EVENT_KIND:
        return _finish(delivery, DeliveryState.FAILED, now, error=_("The endpoint is disabled."))
    secret = ""
    if endpoint.secret_ref:
        secret = resolve_credentials(endpoint.secret_ref).get("webhook_secret", "")
        if not secret:
            return _finish(
                delivery,
                DeliveryState.FAILED,
                now,
                error=_("The signing secret %(name)s is not set in the server environment.")
                % {"name": f"{PREFIX}{endpoint.secret_ref}_WEBHOOK_SECRET"},
            )
    allow_private = WebhookSettings.load().allow_private_addresses
    timeout = config["WEBHOOK_TIMEOUT_SECONDS"]
    if not _claim(delivery, now, timeout=timeout):
        return SKIPPED  # another worker is sending it, or it was settled meanwhile
    body = body_of(delivery)
    headers = webhooks.signed_headers(
        body=body, secret=secret, event_id=str(delivery.event_id), kind=delivery.kind
    )
    try:
        answer = webhooks.post(
            endpoint.url, body, headers=headers, allow_private=allow_private, timeout=timeout
        )
    except webhooks.PermanentDeliveryError as error:
        return _finish(
            delivery, DeliveryState.FAILED, now, error=str(error), status=error.status_code
        )
    except webhooks.TransientDeliveryError as error:
        return _retry_later(
            delivery, now, error=str(error), status=error.status_code, retry_after=error.retry_after
        )
    status = answer.status_code
    if 200 <= status < 300:
        return _finish(delivery, DeliveryState.DELIVERED, now, status=status)
    excerpt = answer.body[:RESPONSE_EXCERPT_LENGTH].decode("utf-8", "replace").strip()
    described = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if status == 429 or status >= 500:
        return _retry_later(
            delivery, now, error=described, status=status, retry_after=answer.retry_after
        )
    if 300 <= status < 400:
        error = _("HTTP %(status)s: redirects are not followed (to %(location)s).") % {
            "status": status,
            "location": answer.location or "?",
        }
        return _finish(delivery, DeliveryState.FAILED, now, error=error, status=status)
    return _finish(delivery, DeliveryState.FAILED, now, error=described, status=status)


def _too_old(delivery: WebhookDelivery, now: datetime) -> bool:
    return delivery.created_at <= now - timedelta(hours=_config()["WEBHOOK_GIVE_UP_HOURS"])


def _claim(delivery: WebhookDelivery, now: datetime, *, timeout: float) -> bool:
    # The lease outlasts the longest POST (the connects and the whole exchange are bounded).
    lease_until = now + timedelta(seconds=webhooks.LONGEST_POST_IN_TIMEOUTS * timeout + 30)
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            lease_expires_at=lease_until,
            sweep_after=lease_until + timedelta(seconds=_config()["WEBHOOK_SWEEP_AFTER_SECONDS"]),
        )
    )
    if claimed:
        delivery.refresh_from_db(fields=["attempts"])
    return bool(claimed)


def _finish(
    delivery: WebhookDelivery,
    state: str,
    now: datetime,
    *,
    error: str = "",
    status: int | None = None,
) -> Outcome:
    changes: dict[str, Any] = {
        "state": state,
        "lease_expires_at": None,
        "sweep_after": None,
        "last_error": error[:LAST_ERROR_MAX_LENGTH],
    }
    if status is not None:
        changes["last_status_code"] = status
    if state == DeliveryState.DELIVERED:
        changes["delivered_at"] = now
    else:
        changes["failed_at"] = now
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(**changes)
    return Outcome(str(state))


def backoff_bounds(attempts: int, retry_after: float | None) -> tuple[float, float]:
    """(the jittered wait before the next attempt, the longest it can be) after `attempts`."""
    config = _config()
    longest = min(
        config["WEBHOOK_BACKOFF_MAX_SECONDS"],
        config["WEBHOOK_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0),
    )
    # Equal jitter: half fixed, half random, so retries of many deliveries spread out
    # without any of them retrying at once.
    wait = longest / 2 + random.uniform(0, longest / 2)  # noqa: S311 - not cryptographic
    if retry_after is not None:
        asked = min(retry_after, config["WEBHOOK_BACKOFF_MAX_SECONDS"])
        wait, longest = max(wait, asked), max(longest, asked)
    return wait, longest


def _retry_later(
    delivery: WebhookDelivery,
    now: datetime,
    *,
    error: str,
    status: int | None,
    retry_after: float | None,
) -> Outcome:
    if _too_old(delivery, now):
        delivery.last_error = error
        return _give_up(delivery, now)
    wait, longest = backoff_bounds(delivery.attempts, retry_after)
    grace = _config()["WEBHOOK_SWEEP_AFTER_SECONDS"]
    changes: dict[str, Any] = {
        "lease_expires_at": None,
        "last_error": error[:LAST_ERROR_MAX_LENGTH],
        # The sweeper stays away until the task's own retry has had its chance.
        "sweep_after": now + timedelta(seconds=longest + grace),
    }
    if status is not None:
        changes["last_status_code"] = status
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(**changes)
    return Outcome(DeliveryState.PENDING.value, retry_in=wait)


def _give_up(delivery: WebhookDelivery, now: datetime) -> Outcome:
    hours = _config()["WEBHOOK_GIVE_UP_HOURS"]
    error = _("Gave up after %(hours)s h and %(attempts)s attempts.") % {
        "hours": hours,
        "attempts": delivery.attempts,
    }
    if delivery.last_error:
        error = f"{error} {delivery.last_error}"
    return _finish(delivery, DeliveryState.FAILED, now, error=error)


# --- The sweeper -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepResult:
    handed_over: int
    gave_up: int


def sweep_deliveries(*, now: datetime) -> SweepResult:
    """Fail what is pending for longer than WEBHOOK_GIVE_UP_HOURS; hand to a worker again what
    is pending past its sweep time (a hand-off lost, a worker killed, retries run out)."""
    from crisis.notifications.tasks import deliver_webhook

    config = _config()
    unleased = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    give_up_before = now - timedelta(hours=config["WEBHOOK_GIVE_UP_HOURS"])
    prefix = _("Gave up after %(hours)s h.") % {"hours": config["WEBHOOK_GIVE_UP_HOURS"]}
    gave_up = (
        WebhookDelivery.objects.filter(unleased, state=DeliveryState.PENDING)
        .filter(created_at__lte=give_up_before)
        .update(
            state=DeliveryState.FAILED,
            failed_at=now,
            lease_expires_at=None,
            sweep_after=None,
            last_error=Left(
                Concat(Value(f"{prefix} "), F("last_error"), output_field=TextField()),
                LAST_ERROR_MAX_LENGTH,
            ),
        )
    )
    due = list(
        WebhookDelivery.objects.filter(unleased, state=DeliveryState.PENDING)
        .filter(sweep_after__lte=now)
        .order_by("sweep_after", "id")
        .values_list("pk", flat=True)[: config["WEBHOOK_SWEEP_BATCH"]]
    )
    if due:
        WebhookDelivery.objects.filter(pk__in=due, state=DeliveryState.PENDING).update(
            sweep_after=now + timedelta(seconds=config["WEBHOOK_SWEEP_AFTER_SECONDS"])
        )
        for delivery_id in due:
            deliver_webhook.delay(delivery_id)
    return SweepResult(handed_over=len(due), gave_up=gave_up)


# --- Endpoints (admins) ------------------------------------------------------------------------


def _require_admin(actor: AbstractBaseUser) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(Perm.MANAGE_PUBLISHING):
        raise PermissionDenied


def url_problem(url: str, *, allow_private: bool | None = None) -> str:
    """Why this address cannot be registered ("" when it can). A name that does not resolve
    now is accepted: every send resolves it again and checks what it finds."""
    if allow_private is None:
        allow_private = WebhookSettings.load().allow_private_addresses
    try:
        target = webhooks.check_url(url)
        webhooks.allowed_addresses(target, allow_private=allow_private)
    except webhooks.TransientDeliveryError:
        return ""
    except webhooks.PermanentDeliveryError as error:
        return str(error)
    return ""


def _endpoint_snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    # The reference's name, never a secret: the secret lives in the server environment.
    return {name: getattr(endpoint, name) for name in WebhookEndpoint.EDITABLE_FIELDS}


def _apply(endpoint: WebhookEndpoint, fields: dict[str, Any]) -> None:
    for name in WebhookEndpoint.EDITABLE_FIELDS:
        if name in fields:
            setattr(endpoint, name, fields[name])
    endpoint.kinds = sorted(set(endpoint.kinds or []))
    unknown = set(endpoint.kinds) - set(NotificationKind.values)
    if unknown:
        raise ValidationError({"kinds": _("Unknown events: %s") % ", ".join(sorted(unknown))})
    problem = url_problem(endpoint.url)
    if problem:
        raise ValidationError({"url": problem})
    endpoint.full_clean(exclude=["created_by"])


def create_endpoint(
    *, actor: AbstractBaseUser, fields: dict[str, Any], now: datetime
) -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = WebhookEndpoint(created_by=actor)
    _apply(endpoint, fields)
    with transaction.atomic():
        endpoint.save()
        record_audit_event(
            actor=actor, verb="webhook.create", target=endpoint, after=_endpoint_snapshot(endpoint)
        )
    return endpoint


def update_endpoint(
    *, actor: AbstractBaseUser, endpoint: WebhookEndpoint, fields: dict[str, Any], now: datetime
) -> WebhookEndpoint:
    _require_admin(actor)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = _endpoint_snapshot(endpoint)
        _apply(endpoint, fields)
        endpoint.save()
        after = _endpoint_snapshot(endpoint)
        if after != before:
            record_audit_event(
                actor=actor, verb="webhook.update", target=endpoint, before=before, after=after
            )
    return endpoint


def delete_endpoint(*, actor: AbstractBaseUser, endpoint: WebhookEndpoint, now: datetime) -> None:
    """Remove the endpoint and its delivery log; nothing more is sent to it."""
    _require_admin(actor)
    with transaction.atomic():
        before = _endpoint_snapshot(endpoint)
        record_audit_event(actor=actor, verb="webhook.delete", target=endpoint, before=before)
        endpoint.delete()


def change_webhook_settings(
    *, actor: AbstractBaseUser, allow_private_addresses: bool, now: datetime
) -> WebhookSettings:
    _require_admin(actor)
    with transaction.atomic():
        WebhookSettings.load()
        row = WebhookSettings.objects.select_for_update().get(pk=1)
        before = {"allow_private_addresses": row.allow_private_addresses}
        row.allow_private_addresses = allow_private_addresses
        row.save(update_fields=["allow_private_addresses", "updated_at"])
        if before["allow_private_addresses"] != allow_private_addresses:
            record_audit_event(
                actor=actor,
                verb="webhook.settings_changed",
                target=row,
                before=before,
                after={"allow_private_addresses": allow_private_addresses},
            )
    return row


def send_test_event(
    *, actor: AbstractBaseUser, endpoint: WebhookEndpoint, now: datetime
) -> WebhookDelivery:
    """A test event to this endpoint (even a disabled one), through the same delivery path."""
    from crisis.notifications.services import absolute_link

    _require_admin(actor)
    event_id = uuid.uuid4()
    title = _("Test event from Calma for “%(name)s”") % {"name": endpoint.name}
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=event_id,
            kind=TEST_EVENT_KIND,
            payload=event_payload(
                event_id=event_id,
                kind=TEST_EVENT_KIND,
                title=title,
                url=absolute_link(reverse("notifications:webhook_detail", args=[endpoint.pk])),
                created_at=now,
                recipient=actor.get_username(),
            ),
            created_at=now,
            sweep_after=now + timedelta(seconds=_config()["WEBHOOK_SWEEP_AFTER_SECONDS"]),
        )
        record_audit_event(
            actor=actor,
            verb="webhook.test_event",
            target=endpoint,
            after={"event_id": str(event_id)},
        )
        deliver_after_commit([delivery.pk])
    return delivery
