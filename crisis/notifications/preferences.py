"""Which notifications reach each person by which channel: reads (one query) and the save."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.functional import Promise

from crisis.notifications.models import (
    CHANNEL_DEFAULTS,
    NotificationChannel,
    NotificationKind,
    NotificationPreference,
    WebhookEndpoint,
)
from crisis.services.audit import record_audit_event

Channels = dict[str, bool]  # channel value -> on/off


def defaults() -> Channels:
    return {str(channel): enabled for channel, enabled in CHANNEL_DEFAULTS.items()}


def channels_for(users: Iterable[AbstractBaseUser], kind: str) -> dict[int, Channels]:
    """Each user's channels for one kind of notification: one query for all of them."""
    user_ids = [user.pk for user in users]
    result = {user_id: defaults() for user_id in user_ids}
    if not user_ids:
        return result
    stored = NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind).values_list(
        "user_id", "channel", "enabled"
    )
    for user_id, channel, enabled in stored:
        if channel in CHANNEL_DEFAULTS:
            result[user_id][channel] = enabled
    return result


@dataclass(frozen=True, slots=True)
class PreferenceRow:
    kind: str
    label: str | Promise
    channels: Channels
    has_endpoint: bool  # an enabled webhook endpoint receives this kind


def preference_table(user: AbstractBaseUser) -> list[PreferenceRow]:
    """Every kind and channel for the user, defaults filled in (two queries)."""
    chosen: dict[str, Channels] = {kind.value: defaults() for kind in NotificationKind}
    for kind, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
        "kind", "channel", "enabled"
    ):
        if kind in chosen and channel in CHANNEL_DEFAULTS:
            chosen[kind][channel] = enabled
    subscribed: set[str] = set()
    for kinds in WebhookEndpoint.objects.filter(enabled=True).values_list("kinds", flat=True):
        subscribed.update(kinds or [])
    return [
        PreferenceRow(
            kind=kind.value,
            label=kind.label,
            channels=chosen[kind.value],
            has_endpoint=kind.value in subscribed,
        )
        for kind in NotificationKind
    ]


def save_preferences(
    *, actor: AbstractBaseUser, choices: Mapping[tuple[str, str], bool], now: datetime
) -> int:
    """Store the actor's own choices sparsely (a row only where a choice differs from the
    default) and return how many changed. Pairs not given keep their current value."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied
    valid_kinds = set(NotificationKind.values)
    valid_channels = set(NotificationChannel.values)
    with transaction.atomic():
        current = {
            (kind, channel): enabled
            for kind, channel, enabled in NotificationPreference.objects.select_for_update()
            .filter(user=actor)
            .values_list("kind", "channel", "enabled")
        }
        before: dict[str, bool] = {}
        after: dict[str, bool] = {}
        to_delete: list[tuple[str, str]] = []
        to_store: list[NotificationPreference] = []
        for (kind, channel), enabled in choices.items():
            if kind not in valid_kinds or channel not in valid_channels:
                raise ValueError(f"unknown kind or channel: {kind!r}, {channel!r}")
            default = CHANNEL_DEFAULTS[channel]
            was = current.get((kind, channel), default)
            if was == enabled:
                continue
            before[f"{kind}:{channel}"], after[f"{kind}:{channel}"] = was, enabled
            if enabled == default:
                to_delete.append((kind, channel))
            else:
                to_store.append(
                    NotificationPreference(user=actor, kind=kind, channel=channel, enabled=enabled)
                )
        for kind, channel in to_delete:
            NotificationPreference.objects.filter(user=actor, kind=kind, channel=channel).delete()
        if to_store:
            NotificationPreference.objects.bulk_create(
                to_store,
                update_conflicts=True,
                unique_fields=["user", "kind", "channel"],
                update_fields=["enabled"],
            )
        if after:
            record_audit_event(
                actor=actor,
                verb="notifications.preferences_changed",
                target=actor,
                before=before,
                after=after,
            )
    return len(after)
