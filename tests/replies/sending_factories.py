"""Builders for the sending and publishing-account tests: sources with an answering account,
incidents on a platform mention of that source, approved replies ready to send."""

from datetime import timedelta
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
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World
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
    fields.setdefault("created_at", NOW)
    fields.setdefault("updated_at", NOW)
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
        **fields,
    )


# --- the simulator ------------------------------------------------------------------------------
# Each platform's brand account as the simulator knows it: secret → handle.
SIMULATOR_SECRETS = {
    Platform.MASTODON: ("access_token", "mastodon-token-for-the-brand-0001", "brisa"),
    Platform.BLUESKY: ("app_password", "abcd-efgh-ijkl-mnop", "brisa.bsky.social"),
    Platform.REDDIT: ("access_token", "reddit-token-for-the-brand-00001", "BrisaTelecom"),
}
SIMULATOR_ACCOUNTS = {
    platform: {secret: handle} for platform, (_name, secret, handle) in SIMULATOR_SECRETS.items()
}
POLLED = {
    Platform.MASTODON: (QueryKind.HASHTAG, "brisa"),
    Platform.BLUESKY: (QueryKind.SEARCH, "brisa"),
    Platform.REDDIT: (QueryKind.SEARCH, "brisa"),
}


def brand_simulator(world: World) -> SimulatorServer:
    """The platform simulator over loopback, an hour after the world's crisis began, with the
    brand's accounts able to write (use as a context manager)."""
    return SimulatorServer(
        world, clock=world.crisis_at + timedelta(minutes=60), write_accounts=SIMULATOR_ACCOUNTS
    )


def simulator_account(
    simulator, platform: str, monkeypatch, *, secret: str | None = None
) -> tuple[Source, PublishingAccount]:
    """A source polling the simulator and the brand's account answering on it, with its secret
    set in the environment (`secret` overrides the one the simulator accepts)."""
    kind, query = POLLED[platform]
    root = simulator.url(platform)
    found_by = Source.objects.create(
        name=f"Simulated {platform} {next(_numbers)}",
        platform=platform,
        kind=kind,
        query=query,
        base_url=root,
        enabled=False,
    )
    name, accepted, handle = SIMULATOR_SECRETS[platform]
    made = account(platform, base_url=root, handle=handle, sources=(found_by,))
    monkeypatch.setenv(f"CALMA_SECRET_{made.credentials_ref}_{name.upper()}", secret or accepted)
    return found_by, made


def polled_mention(simulator, found_by: Source, keep=lambda mention: not mention.reply_to_id):
    """The first mention the source's connector reads from the simulator, stored by ingest as
    the poller stores it."""
    from monitoring.connectors import connector_for
    from monitoring.connectors.base import SourceConfig
    from monitoring.ingest import ingest_mentions
    from monitoring.models import Mention

    connector = connector_for(found_by.platform)
    config = SourceConfig(
        found_by.platform, found_by.kind, found_by.query, found_by.base_url, page_size=100
    )
    page = connector.fetch(config, {})
    chosen = next(mention for mention in page.mentions if keep(mention))
    ingest_mentions([chosen], source_id=found_by.pk)
    return Mention.objects.get(platform=chosen.platform, external_id=chosen.external_id)


def case_for(mention, *, owner, state: str = IncidentState.IN_PROGRESS) -> Incident:
    """An incident opened on a stored mention (as the incident stage would)."""
    from crisis.incidents.models import IncidentMention

    made = incident_factory(state=state, owner=owner)
    IncidentMention.objects.filter(incident=made).update(mention=mention)
    made.first_mention = mention
    made.author = mention.author
    made.save(update_fields=["first_mention", "author"])
    return made
