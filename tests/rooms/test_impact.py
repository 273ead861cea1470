"""The post-mortem's impact figures, computed from the data: a fixture whose every figure is
known (mentions, authors, reach, exposure, incidents, first-response percentiles, SLA
breaches, compensation per currency, and the times from the first serious mention to the
suggestion, the declaration and the first statement)."""

from datetime import timedelta

import pytest

from crisis.incidents.models import IncidentState
from crisis.rooms import impact
from crisis.rooms.models import Publication, PublicationState
from protocols.models import CrisisSuggestion
from protocols.services import active_version
from tests.incidents.factories import NOW, author, incident
from tests.rooms.factories import a_crisis, link
from tests.rooms.postmortem_fixtures import (
    compensation,
    incident_on,
    on_topics,
    resolve,
    statement_version,
)

pytestmark = pytest.mark.django_db

DECLARED = NOW  # 10:00
RESOLVED = NOW + timedelta(hours=5)  # 15:00


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


@pytest.fixture
def known():
    """A resolved crisis on "billing" whose figures are worked out by hand below."""
    a, b, c = author(followers=1000), author(followers=500), author(followers=200)
    f = author(followers=3000)
    unknown_reach = author(followers=None)
    # Outside: 8 days before (beyond the lookback), after the resolution, another topic, a drill.
    on_topics(at=DECLARED - timedelta(days=8), severity="critical", by=a)
    on_topics(at=RESOLVED + minutes(60), severity="high", by=unknown_reach)
    on_topics(("shipping",), at=DECLARED - minutes(30), severity="high", by=author(followers=9))
    on_topics(at=DECLARED, severity="high", by=author(followers=77), origin="run:5")
    # Before the first serious mention: not in the window.
    on_topics(at=DECLARED - minutes(180), severity="medium", by=a)
    # The crisis: first serious mention at 08:00.
    m2 = on_topics(at=DECLARED - minutes(120), severity="high", by=b)
    m3 = on_topics(at=DECLARED - minutes(60), severity="critical", by=c)
    on_topics(at=DECLARED + minutes(60), severity="medium", by=a)
    # Incident mentions off the crisis's topics count through their incidents.
    m6 = on_topics(("refunds",), at=DECLARED + minutes(120), severity="medium", by=f)
    m7 = on_topics(("refunds",), at=DECLARED + minutes(180), severity="low", by=a)

    i1 = incident_on(m2, first_response_at=m2.published_at + minutes(30))
    i2 = incident_on(
        m3,
        first_response_at=m3.published_at + minutes(90),
        sla_breached_at=m3.published_at + minutes(60),
    )
    i3 = incident_on(
        m6, state=IncidentState.ASSIGNED, sla_breached_at=m6.published_at + minutes(60)
    )
    i4 = incident_on(m7, first_response_at=m7.published_at + minutes(20))

    crisis = a_crisis(topics=("billing",), declared_at=DECLARED, incidents=(i1, i2, i3, i4))
    suggestion = CrisisSuggestion.objects.create(
        topic="billing",
        reason=CrisisSuggestion.Reason.INCIDENTS,
        protocol_version=active_version(),
        raised_at=DECLARED - minutes(75),
    )
    crisis.suggestion = suggestion
    crisis.save()
    resolve(crisis, RESOLVED)

    boss = crisis.commander
    compensation(i1, "50.00", by=boss)
    compensation(i2, "25.50", by=boss)
    compensation(i2, "100.00", by=boss, granted=False)
    compensation(i3, "10", "USD", by=boss)
    compensation(incident(), "999.00", by=boss)  # not a crisis incident
    version = statement_version(
        crisis, by=boss, approved_at=DECLARED + minutes(75), channels={"blog": True}
    )
    Publication.objects.filter(version=version).update(
        published_at=DECLARED + minutes(90), state=PublicationState.PUBLISHED
    )
    return crisis


def test_impact_figures_are_computed_exactly_from_the_data(known):
    figures = impact.compute_impact(known, now=RESOLVED + timedelta(days=2))

    assert figures["window"] == {
        "start": (DECLARED - minutes(120)).isoformat(),
        "end": RESOLVED.isoformat(),
    }
    # On "billing" in the window: 08:00, 09:00, 11:00; through incidents: 12:00 and 13:00.
    assert figures["mentions"] == 5
    assert figures["unique_authors"] == 4  # a (twice), b, c, f
    assert figures["reach"] == 1000 + 500 + 200 + 3000
    # reach * minutes unanswered: 500*30 + 200*90 + 3000*(15:00-12:00) + 1000*20
    assert figures["exposure"] == 15_000 + 18_000 + 540_000 + 20_000
    assert figures["incidents"] == 4
    assert figures["answered_incidents"] == 3
    # Responses 20, 30, 90 minutes: median 30; 90th percentile 30 + 0.8*60.
    assert figures["first_response_p50_minutes"] == 30.0
    assert figures["first_response_p90_minutes"] == 78.0
    assert figures["sla_breaches"] == 2
    assert figures["compensation_granted"] == {"EUR": "75.50", "USD": "10.00"}
    assert figures["first_serious_mention_at"] == (DECLARED - minutes(120)).isoformat()
    assert figures["minutes_to_suggestion"] == 45.0
    assert figures["minutes_to_declaration"] == 120.0
    # The first approved version (11:15), not its publication (11:30).
    assert figures["minutes_to_first_statement"] == 195.0


def test_an_open_crisis_counts_until_now(known):
    known.status = "active"
    known.resolved_at = None
    known.save()
    now = RESOLVED + minutes(60)
    figures = impact.compute_impact(known, now=now)
    assert figures["window"]["end"] == now.isoformat()
    # The 16:00 mention on "billing" now falls in the window; #3 stays unanswered an hour more.
    assert figures["mentions"] == 6
    assert figures["exposure"] == 15_000 + 18_000 + 3000 * 240 + 20_000


def test_without_a_statement_the_first_publication_counts():
    boss_crisis = a_crisis(topics=("billing",), declared_at=DECLARED)
    first = on_topics(at=DECLARED - minutes(30), severity="high")
    link(boss_crisis, incident_on(first))
    version = statement_version(boss_crisis, by=boss_crisis.commander, approved_at=None)
    Publication.objects.create(
        version=version,
        channel="blog",
        state=PublicationState.PUBLISHED,
        published_at=DECLARED + minutes(10),
    )
    figures = impact.compute_impact(boss_crisis, now=DECLARED + minutes(60))
    assert figures["minutes_to_first_statement"] == 40.0
    assert figures["minutes_to_suggestion"] is None  # declared without a suggestion


def test_a_crisis_without_serious_mentions_starts_at_its_declaration():
    quiet = a_crisis(topics=("billing",), declared_at=DECLARED)
    on_topics(at=DECLARED + minutes(5), severity="medium")
    figures = impact.compute_impact(quiet, now=DECLARED + minutes(60))
    assert figures["first_serious_mention_at"] is None
    assert figures["window"]["start"] == DECLARED.isoformat()
    assert figures["mentions"] == 1
    assert figures["first_response_p50_minutes"] is None
    assert figures["minutes_to_declaration"] is None
    assert figures["compensation_granted"] == {}


def test_percentile_interpolates_between_ranks():
    assert impact.percentile([], 0.5) is None
    assert impact.percentile([7.0], 0.9) == 7.0
    assert impact.percentile([10.0, 20.0], 0.5) == 15.0
    assert impact.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) == 9.1
