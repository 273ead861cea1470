"""What the reply journeys share: a simulated Mastodon carrying one customer's complaint,
polled by the real worker into an incident routed to the demo manager, a publishing account
the simulator accepts, sign-in with the demo logins, and the Spanish interface."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from crisis.demo import create_demo_team, create_demo_users
from crisis.incidents.models import Incident
from crisis.replies.models import PublishingAccount, SourceAccount
from monitoring import polling
from monitoring.models import Mention, Source
from monitoring.platforms import Platform, QueryKind
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import Kind, SimAuthor, SimPost, Topic, World, mastodon_snowflake

# The publishing account's secret lives in the environment, like every credential:
# CALMA_SECRET_<REF>_ACCESS_TOKEN (crisis.replies.models.PublishingAccount).
ACCOUNT_REF = "JOURNEY_MASTODON"
ACCESS_TOKEN = "journey-mastodon-write-token"  # the simulator takes this one only
BRAND_HANDLE = "brisa"


@dataclass(frozen=True, slots=True)
class Complaint:
    """One customer's public post about Brisa."""

    handle: str
    display_name: str
    followers: int
    text: str
    language: str = "es"


# Spanish, the company's fault (a double charge), from an account with reach: the default
# protocol scores it high and company_fault, which `replies.approval_classes` lists, so its
# reply needs a supervisor. No authority or legal words: no legal reviewer needed.
DOUBLE_CHARGE = Complaint(
    handle="lucia_gm",
    display_name="Lucía García",
    followers=18_420,
    text=(
        "#brisa me habéis cobrado dos veces la factura de este mes y nadie me responde. "
        "Es una vergüenza, quiero mi dinero ya"
    ),
)


def one_post_world(complaint: Complaint, *, now: datetime) -> tuple[World, SimPost]:
    """A Mastodon holding just this complaint, posted two minutes before `now`."""
    published = (now - timedelta(minutes=2)).replace(microsecond=0)
    author = SimAuthor(
        handle=complaint.handle,
        display_name=complaint.display_name,
        followers=complaint.followers,
        account_id="109876543210987654",
        created_at=now - timedelta(days=900),
    )
    external_id = str(mastodon_snowflake(published, _FixedBits()))
    post = SimPost(
        platform=Platform.MASTODON.value,
        external_id=external_id,
        published_at=published,
        author=author,
        text=complaint.text,
        language=complaint.language,
        kind=Kind.COMPLAINT.value,
        topic=Topic.BILLING.value,
        thread_id=external_id,  # a thread of its own
    )
    world = World(
        [post],
        seed=0,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
        crisis_at=None,
        channel_id="UCjourneyjourneyjourney0",
        videos=(),
    )
    return world, post


class _FixedBits:
    """The random low bits of a Mastodon id, fixed so the post's id is reproducible."""

    def getrandbits(self, bits: int) -> int:
        return 0x2A2A & ((1 << bits) - 1)


def simulator_for(world: World, *, now: datetime) -> SimulatorServer:
    """The simulator serving `world`, its clock standing at `now` (start it with `with`); on
    Mastodon it takes only the brand account's token for writes."""
    return SimulatorServer(
        world, clock=now, write_accounts={"mastodon": {ACCESS_TOKEN: BRAND_HANDLE}}
    )


def demo_people() -> None:
    """manager (on shift around the clock in the default team), supervisor, executive, admin."""
    create_demo_users()
    create_demo_team()


def mastodon_source_answered_by_brisa(server: SimulatorServer, monkeypatch) -> Source:
    """A #brisa source on the simulated Mastodon, polled every second, whose mentions the
    brand's publishing account on the same instance answers."""
    source = Source.objects.create(
        name="Mastodon #brisa",
        platform=Platform.MASTODON,
        kind=QueryKind.HASHTAG,
        query="brisa",
        base_url=server.url("mastodon"),
        poll_interval_seconds=1,
    )
    monkeypatch.setenv(f"CALMA_SECRET_{ACCOUNT_REF}_ACCESS_TOKEN", ACCESS_TOKEN)
    account = PublishingAccount.objects.create(
        platform=Platform.MASTODON,
        name="Brisa on Mastodon",
        handle=BRAND_HANDLE,
        base_url=server.url("mastodon"),
        credentials_ref=ACCOUNT_REF,
    )
    SourceAccount.objects.create(source=source, account=account)
    return source


def wait_until(condition: Callable[[], object], timeout: float, message: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.2)


def poll_until_incident(post: SimPost, timeout: float = 60) -> Incident:
    """What beat does: dispatch the due polls until the worker has stored the post, scored it,
    opened its incident and routed it (to the manager on shift)."""

    def routed() -> Incident | None:
        polling.dispatch_due_polls()
        mention = Mention.objects.filter(
            platform=post.platform, external_id=post.external_id
        ).first()
        if mention is None:
            return None
        return (
            Incident.objects.filter(first_mention=mention, owner__isnull=False)
            .select_related("owner")
            .first()
        )

    return wait_until(routed, timeout, "the simulator's mention never became a routed incident")


# --- the browser ------------------------------------------------------------------------------
def sign_in(page: Page, base_url: str, username: str) -> None:
    """The demo logins' password is calma-<username>."""
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(f"calma-{username}")
    page.locator("#id_password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def switch_language(page: Page, code: str) -> None:
    """With the navigation's language switcher, keyboard only."""
    switcher = page.locator("#language-select")
    switcher.select_option(code)
    switcher.focus()
    page.keyboard.press("Tab")  # to the switcher's own submit button
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", code)


def spanish(msgid: str | Promise) -> str:
    """How the Spanish interface shows an English msgid (or a lazy label such as a state's):
    its translation once the catalogue has one, the msgid itself until then (the strings of
    this issue are translated last)."""
    with translation.override("es"):
        return str(msgid) if isinstance(msgid, Promise) else gettext(msgid)


def exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def press(target) -> None:
    """Activate a button or link from the keyboard: focus it, press Enter."""
    target.focus()
    target.press("Enter")
