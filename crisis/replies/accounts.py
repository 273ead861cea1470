"""Publishing accounts: the identities that write on a platform, their secrets (by reference,
never stored) and which sources each one answers on.

Admins (`Perm.MANAGE_PUBLISHING`) create, edit, disable and enable accounts and link sources;
every change is audited. The sending slice reads `answering_account` and `credentials_present`
to decide whether Calma can post a reply itself.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from crisis.replies.models import PublishingAccount, SourceAccount
from crisis.roles import Perm
from crisis.services.audit import record_audit_event
from crisis.services.permissions import require_permission
from monitoring.connectors import writing
from monitoring.credentials import PREFIX, resolve_credentials
from monitoring.models import Mention, Source
from monitoring.platforms import Platform

# What an admin edits on an account, and what its audit rows record (never a secret: the
# reference is a name, the secret stays in the environment).
EDITABLE_FIELDS = ("platform", "name", "handle", "base_url", "credentials_ref", "enabled")


def publishing_platforms() -> tuple[str, ...]:
    """Platforms on which an account can write something (reply, edit, hide, delete)."""
    return tuple(platform for platform in Platform.values if writing.capabilities(platform))


@dataclass(frozen=True, slots=True)
class SecretStatus:
    """One secret an account needs: its environment variable and whether it is set (never
    its value)."""

    name: str
    variable: str
    present: bool


def secret_status(account: PublishingAccount) -> list[SecretStatus]:
    resolved = resolve_credentials(account.credentials_ref)
    return [
        SecretStatus(
            name=name,
            variable=f"{PREFIX}{account.credentials_ref}_{name.upper()}",
            present=bool(resolved.get(name)),
        )
        for name in writing.REQUIRED_CREDENTIALS.get(account.platform, ())
    ]


def credentials_present(account: PublishingAccount) -> bool:
    """Every secret the account's platform needs is set in the server environment (and a
    Mastodon account names its instance)."""
    if not account.credentials_ref or account.platform not in writing.REQUIRED_CREDENTIALS:
        return False
    return not writing.credentials_missing(account_config(account))


def account_config(account: PublishingAccount) -> writing.AccountConfig:
    """What the platform writer needs, secrets resolved (never logged or shown)."""
    return writing.AccountConfig(
        platform=account.platform,
        base_url=account.base_url,
        handle=account.handle,
        credentials=resolve_credentials(account.credentials_ref),
    )


def answering_account(mention: Mention) -> PublishingAccount | None:
    """The account linked to the mention's source, if it is on the mention's platform."""
    if mention.source_id is None:
        return None
    link = (
        SourceAccount.objects.select_related("account")
        .filter(source_id=mention.source_id, account__platform=mention.platform)
        .first()
    )
    return link.account if link else None


# --- writes -------------------------------------------------------------------------------


def _snapshot(account: PublishingAccount) -> dict:
    return {field: getattr(account, field) for field in EDITABLE_FIELDS}


def save_account(*, actor: AbstractBaseUser, account: PublishingAccount) -> PublishingAccount:
    """Create or update an account (from a validated form instance). Changing its platform
    drops the links to sources of the old platform (an account answers only on its own)."""
    require_permission(actor, Perm.MANAGE_PUBLISHING)
    with transaction.atomic():
        before = None
        dropped: list[int] = []
        if account.pk:
            stored = PublishingAccount.objects.select_for_update().get(pk=account.pk)
            before = _snapshot(stored)
            if stored.platform != account.platform:
                links = SourceAccount.objects.filter(account=account)
                dropped = list(links.values_list("source_id", flat=True))
                links.delete()
        account.full_clean()
        account.save()
        after = _snapshot(account)
        if dropped:
            after["unlinked_sources"] = dropped
        record_audit_event(
            actor=actor,
            verb="publishing_account.update" if before else "publishing_account.create",
            target=account,
            before=before,
            after=after,
        )
    return account


def set_account_enabled(
    *, actor: AbstractBaseUser, account: PublishingAccount, enabled: bool
) -> PublishingAccount:
    """Disable (Calma stops posting with it; approved replies are shown ready to copy) or
    enable an account. Its source links stay."""
    require_permission(actor, Perm.MANAGE_PUBLISHING)
    with transaction.atomic():
        account = PublishingAccount.objects.select_for_update().get(pk=account.pk)
        if account.enabled == enabled:
            return account
        account.enabled = enabled
        account.save(update_fields=["enabled", "updated_at"])
        record_audit_event(
            actor=actor,
            verb="publishing_account.enable" if enabled else "publishing_account.disable",
            target=account,
            before={"enabled": not enabled},
            after={"enabled": enabled},
        )
    return account


def linkable_sources(account: PublishingAccount):
    """Sources this account may answer on: the ones of its platform."""
    return Source.objects.filter(platform=account.platform).order_by("name", "pk")


def link_sources(
    *, actor: AbstractBaseUser, account: PublishingAccount, sources: Iterable[Source]
) -> list[int]:
    """Make `sources` exactly the sources this account answers on: each chosen source is
    linked to it (taking it over from another account), each source it answered on and not
    chosen any more is unlinked. Only sources of the account's platform. Returns the ids."""
    require_permission(actor, Perm.MANAGE_PUBLISHING)
    chosen = {source.pk: source for source in sources}
    wrong = [source for source in chosen.values() if source.platform != account.platform]
    if wrong:
        raise ValidationError(
            gettext("%(name)s is not a %(platform)s source.")
            % {"name": wrong[0].name, "platform": account.get_platform_display()}
        )
    with transaction.atomic():
        account = PublishingAccount.objects.select_for_update().get(pk=account.pk)
        before = sorted(
            SourceAccount.objects.filter(account=account).values_list("source_id", flat=True)
        )
        taken_from = {
            str(source_id): account_id
            for source_id, account_id in SourceAccount.objects.filter(source_id__in=chosen)
            .exclude(account=account)
            .values_list("source_id", "account_id")
        }
        SourceAccount.objects.filter(account=account).exclude(source_id__in=chosen).delete()
        for source_id in chosen:
            SourceAccount.objects.update_or_create(
                source_id=source_id, defaults={"account": account}
            )
        after = sorted(chosen)
        if before != after:
            record_audit_event(
                actor=actor,
                verb="publishing_account.link_sources",
                target=account,
                before={"sources": before},
                after={
                    "sources": after,
                    **({"taken_from": taken_from} if taken_from else {}),
                },
            )
    return after
