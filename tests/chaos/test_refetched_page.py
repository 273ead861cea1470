"""A page served to a poll that never committed it is served again whole, and stored.

The deterministic form of the chaos test's lost Bluesky post: the simulator answered a
page (and counted its posts as served), the poll died before committing it (a SIGKILL, the
database down, a client timeout after the answer was written), and the next poll asked for
the same page again. If that second answer carries one of the posts malformed, the post is
quarantined, the sweep ends past it, and it is never fetched again: served, never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import polling
from monitoring.connectors import bluesky
from monitoring.models import Mention, QuarantinedItem, Source
from monitoring.platforms import Platform, QueryKind
from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
NOW = START + timedelta(minutes=40)  # mid-crisis: several full Bluesky pages within the window
WINDOW = timedelta(minutes=15)
MAX_POLLS = 20  # a sweep of this window takes a handful of polls; bounded in any case


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=5, start=START, hours=1.0, crisis_at_minutes=20)


@pytest.fixture
def simulator(world: World):
    with SimulatorServer(world, clock=NOW, fault_seed=1) as server:
        yield server


@pytest.fixture
def source(simulator: SimulatorServer) -> Source:
    since = bluesky._format_instant(NOW - WINDOW)
    return Source.objects.create(
        name="Bluesky brisa",
        platform=Platform.BLUESKY,
        kind=QueryKind.SEARCH,
        query="brisa",
        base_url=simulator.url("bluesky"),
        poll_interval_seconds=60,
        cursor={"since": since},
    )


def stored_bluesky() -> set[tuple[str, str]]:
    return set(Mention.objects.values_list("platform", "external_id"))


def poll_until_the_sweep_ends(source: Source) -> None:
    for _ in range(MAX_POLLS):
        outcome = polling.poll(source.pk)
        assert outcome.status == "ok", outcome
        if "page_cursor" not in Source.objects.get(pk=source.pk).cursor:
            return
    raise AssertionError(f"the sweep did not end within {MAX_POLLS} polls")


def test_a_post_served_to_a_poll_that_died_before_its_commit_is_stored_by_the_next(
    simulator: SimulatorServer, source: Source
):
    # The first poll fetches its page and dies before the commit: served, nothing stored.
    lost = bluesky.fetch(polling.source_config(source), source.cursor)
    assert len(lost.mentions) == bluesky.MAX_LIMIT or lost.has_more
    assert simulator.served() and not Mention.objects.exists()

    # The next poll asks for the same page while the platform sends one malformed item.
    simulator.add_fault("malformed_item", "bluesky", count=1)
    poll_until_the_sweep_ends(source)
    poll_until_the_sweep_ends(source)  # one more sweep from the new `since`: nothing left

    served = simulator.served()
    assert {platform for platform, _ in served} == {Platform.BLUESKY}
    assert served - stored_bluesky() == set()
    assert stored_bluesky() == served
    assert Source.objects.get(pk=source.pk).cursor["since"] > source.cursor["since"]
    # The malformed item was a post never served intact, and it is kept for review.
    assert QuarantinedItem.objects.count() == simulator.state()["faults"][0]["hits"] == 1
