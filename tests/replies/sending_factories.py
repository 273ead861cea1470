"""Builders for the sending and publishing-account tests: sources with an answering account,
incidents on a platform mention of that source, approved replies ready to send."""

from itertools import count

from crisis.incidents.models import Incident, IncidentState
from crisis.replies.models import (
    PublishingAccount,
    Reply,
    ReplyPurpose,
    ReplyState,
    ReplyVisibility,
    SourceAccount,
)
from monitoring.models import Source
from monitoring.platforms import Platform, QueryKind
from tests.incidents.factories import NOW, author
from tests.incidents.factories import incident as incident_factory

_numbers = count(1)

KINDS = {
    Platform.MASTODON: QueryKind.HASHTAG,
    Platform.BLUESKY: QueryKind.SEARCH,
    Platform.REDDIT: QueryKind.SUBREDDIT,
    Platform.YOUTUBE: QueryKind.VIDEO,
    Platform.FEED: QueryKind.FEED_URL,
    Platform.CSV: QueryKind.PUSH,
}


def source(platform: str = Platform.MASTODON, *, base_url: str = "", name: str = "") -> Source:
    number = next(_numbers)
    return Source.objects.create(
        name=name or f"{platform} source {number}",
        platform=platform,
        kind=KINDS[platform],
        query="brisa",
        base_url=base_url or ("https://mastodon.example" if platform == "mastodon" else ""),
        enabled=False,  # never polled by a test worker
    )


def account(
    platform: str = Platform.MASTODON,
    *,
    ref: str = "",
    base_url: str = "",
    handle: str = "",
    enabled: bool = True,
    sources: tuple[Source, ...] = (),
) -> PublishingAccount:
    number = next(_numbers)
    made = PublishingAccount.objects.create(
        platform=platform,
        name=f"Brand on {platform} {number}",
        handle=handle or "brisa",
        base_url=base_url or ("https://mastodon.example" if platform == "mastodon" else ""),
        credentials_ref=ref or f"TEST_{platform.upper()}_{number}",
        enabled=enabled,
    )
    for linked in sources:
        SourceAccount.objects.update_or_create(source=linked, defaults={"account": made})
    return made


def secrets(monkeypatch, made: PublishingAccount, **values: str) -> None:
    """Set the account's secrets in the environment (as an operator would)."""
    defaults = (
        {"identifier": made.handle, "app_password": "app-pass-1234"}
        if made.platform == Platform.BLUESKY
        else {"access_token": "token-abc-123"}
    )
    for name, value in {**defaults, **values}.items():
        monkeypatch.setenv(f"CALMA_SECRET_{made.credentials_ref}_{name.upper()}", value)


def case_on(
    found_by: Source | None,
    *,
    owner=None,
    of=None,
    state: str = IncidentState.IN_PROGRESS,
    platform: str | None = None,
    external_id: str = "",
    thread_id: str = "",
    url: str = "https://mastodon.example/@client/1",
    raw: dict | None = None,
) -> Incident:
    """An incident whose first mention was found by `found_by` on its platform."""
    platform = platform or (found_by.platform if found_by else Platform.MASTODON)
    made = incident_factory(state=state, owner=owner, of=of)
    mention = made.first_mention
    by = author(platform=platform)
    mention.author = by
    mention.platform = platform
    mention.source = found_by
    mention.external_id = external_id or f"{platform}-{next(_numbers)}"
    mention.thread_id = thread_id
    mention.url = url
    mention.raw = raw or {}
    mention.save()
    made.author = by
    made.save(update_fields=["author"])
    return made


def approved_reply(
    incident: Incident,
    *,
    by,
    text: str = "Hola, lo sentimos mucho. Te escribimos por privado.",
    state: str = ReplyState.APPROVED,
    account: PublishingAccount | None = None,
    visibility: str = ReplyVisibility.PUBLIC,
    purpose: str = ReplyPurpose.ANSWER,
    **fields,
) -> Reply:
    """A reply as approvals leaves it (drafting and approving are the drafts slice's tests)."""
    return Reply.objects.create(
        incident=incident,
        in_reply_to=incident.first_mention,
        drafted_by=by,
        visibility=visibility,
        purpose=purpose,
        text=text,
        state=state,
        approved_at=NOW,
        account=account,
        protocol_version=incident.protocol_version,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )
