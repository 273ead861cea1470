"""The crisis timeline and its chart: the audit log of the room and of its incidents' openings
and resolutions, the suggestion, manual entries and pinned mentions merged in time order in one
query; each event told as a sentence; mention volume and negative share per hour of the crisis's
topics, drawn as an accessible SVG with a table."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crisis.rooms import plan, timeline
from crisis.rooms.charts import nice_ceiling, render_volume_chart, volume_chart
from crisis.rooms.models import CabinetRole, TaskStatus, TimelineEntry
from crisis.services.audit import record_audit_event
from protocols.models import CrisisSuggestion, MentionScore, MentionTopic
from protocols.services import active_version
from tests.factories import UserFactory
from tests.incidents.factories import incident, scored_mention
from tests.rooms.factories import a_crisis, cabinet_member_user, link, seat

pytestmark = pytest.mark.django_db

DECLARED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _utc():
    with timezone.override("UTC"):
        yield


@pytest.fixture
def crisis(db):
    return a_crisis(topics=("billing", "#cobros"), declared_at=DECLARED)


@pytest.fixture
def member(crisis):
    user = cabinet_member_user("scribe-eva")
    seat(crisis, user, "communications", CabinetRole.SCRIBE)
    return user


def _at(minutes: int) -> datetime:
    return DECLARED + timedelta(minutes=minutes)


def _on_topic(at: datetime, *, sentiment: float = -0.5, topics=("billing",), origin="live"):
    mention = scored_mention(published_at=at, origin=origin)
    MentionScore.objects.filter(mention=mention).update(sentiment=sentiment)
    for topic in topics:
        MentionTopic.objects.create(mention=mention, topic=topic, published_at=at, origin=origin)
    return mention


# --- merging ---------------------------------------------------------------------------------


def test_timeline_merges_audit_incidents_suggestion_entries_and_pins_in_time_order(crisis, member):
    suggestion = CrisisSuggestion.objects.create(
        topic="billing",
        reason=CrisisSuggestion.Reason.SPIKE,
        protocol_version=active_version(),
        raised_at=_at(-30),
    )
    crisis.suggestion = suggestion
    crisis.save()
    linked, unlinked = incident(at=_at(-60)), incident(at=_at(-60))
    link(crisis, linked)
    with time_machine.travel(_at(-50), tick=False):
        record_audit_event(
            actor=None, verb="incident.open", target=linked, after={"severity": "high"}
        )
        record_audit_event(actor=None, verb="incident.open", target=unlinked, after={})
    with time_machine.travel(_at(-45), tick=False):
        # Not an opening or a resolution: not on the crisis's timeline.
        record_audit_event(actor=member, verb="incident.assign", target=linked, after={})
    with time_machine.travel(_at(10), tick=False):
        task = plan.add_task(actor=member, crisis=crisis, title="Call the bank", now=_at(10))
    pinned = _on_topic(_at(20))
    with time_machine.travel(_at(30), tick=False):
        timeline.pin_mention(
            actor=member, crisis=crisis, mention=pinned, note="origin", now=_at(30)
        )
    with time_machine.travel(_at(40), tick=False):
        plan.set_task_status(actor=member, task=task, status=TaskStatus.DONE, now=_at(40))
    with time_machine.travel(_at(50), tick=False):
        timeline.add_timeline_entry(
            actor=member, crisis=crisis, text="Regulator called", at=_at(5), now=_at(50)
        )
        record_audit_event(actor=member, verb="incident.resolve", target=linked, after={})
    # Another crisis's events stay on its own timeline.
    other = a_crisis(title="Other", commander=UserFactory(username="boss-b"))
    plan.add_task(actor=other.commander, crisis=other, title="Elsewhere", now=_at(15))

    page = timeline.timeline_page(crisis, newest_first=False)
    assert [(item.at, item.kind) for item in page.items] == [
        (_at(-50), "incident"),
        (_at(-30), "suggestion"),
        (_at(5), "entry"),
        (_at(10), "event"),
        (_at(20), "pin"),
        (_at(40), "event"),
        (_at(50), "incident"),
    ]
    sentences = [item.sentence for item in page.items]
    assert sentences[0] == f"Incident #{linked.pk} opened (high)."
    assert sentences[1] == (
        "Calma suggested a crisis on billing: mention rate far above its baseline."
    )
    assert sentences[2] == "scribe-eva noted:" and page.items[2].text == "Regulator called"
    assert sentences[3] == "scribe-eva added the task “Call the bank”."
    assert page.items[4].mention_id == pinned.pk and page.items[4].text == "origin"
    assert page.items[4].mention_text == pinned.text
    assert sentences[5] == "scribe-eva completed the task “Call the bank”."
    assert sentences[6] == f"Incident #{linked.pk} resolved by scribe-eva."
    assert page.items[6].incident_id == linked.pk
    newest = timeline.timeline_page(crisis)
    assert [item.at for item in newest.items] == sorted(
        (item.at for item in page.items), reverse=True
    )


def test_an_unknown_verb_is_told_generically_and_a_missing_value_never_fails(crisis, member):
    record_audit_event(actor=member, verb="crisis.something_new", target=crisis, after={"x": 1})
    record_audit_event(actor=member, verb="crisis.task_add", target=crisis, after={})
    sentences = [item.sentence for item in timeline.timeline_page(crisis).items]
    assert sentences == ["scribe-eva added the task “?”.", "scribe-eva: something new."]


def test_events_of_the_other_slices_read_as_sentences(crisis, member):
    def event(verb, after, actor=member):
        record_audit_event(actor=actor, verb=verb, target=crisis, after=after)

    event(
        "crisis.member_added",
        {"username": "legal-ana", "role": "spokesperson", "department": "legal"},
    )
    event("crisis.incident_linked", {"incident": 7, "automatic": True, "topic": "billing"}, None)
    event("crisis.statement_approval", {"number": 2, "role": "legal"})
    event("crisis.statement_published", {"number": 2, "channel": "blog", "by_hand": True})
    event("crisis.statement_edit", {"number": 2})  # autosaved edits are not told
    sentences = [item.sentence for item in timeline.timeline_page(crisis, newest_first=False).items]
    assert sentences == [
        "scribe-eva added legal-ana to the cabinet (spokesperson, legal).",
        "Incident #7 joined the crisis (its topic is billing).",
        "scribe-eva approved version 2 of the statement (legal approval).",
        "scribe-eva marked version 2 of the statement published on blog.",
    ]


def _fill(crisis, member, count: int) -> None:
    cases = [incident() for _ in range(3)]
    for case in cases:
        link(crisis, case)
        record_audit_event(actor=None, verb="incident.open", target=case, after={})
    for number in range(count):
        plan.add_task(actor=member, crisis=crisis, title=f"task {number}", now=_at(number))
        TimelineEntry.objects.create(
            crisis=crisis, at=_at(number), text="x", author=member, created_at=_at(number)
        )


@pytest.mark.parametrize("count", [5, 50])
def test_a_timeline_page_is_one_query_whatever_its_length(
    crisis, member, count, django_assert_num_queries
):
    _fill(crisis, member, count)
    with django_assert_num_queries(1):
        page = timeline.timeline_page(crisis, per_page=200)
    assert len(page.items) == 2 * count + 3


def test_timeline_pages_without_counting(crisis, member):
    _fill(crisis, member, 30)  # 63 rows
    first = timeline.timeline_page(crisis, page=1, per_page=25)
    third = timeline.timeline_page(crisis, page=3, per_page=25)
    assert first.has_next and not first.has_previous
    assert len(third.items) == 13 and not third.has_next and third.has_previous
    assert timeline.latest_events(crisis, limit=20) == first.items[:20]


# --- manual entries and pins -----------------------------------------------------------------


def test_entry_cannot_be_in_the_future_nor_empty(crisis, member):
    with pytest.raises(ValidationError):
        timeline.add_timeline_entry(actor=member, crisis=crisis, text="x", at=_at(10), now=_at(5))
    with pytest.raises(ValidationError):
        timeline.add_timeline_entry(actor=member, crisis=crisis, text="  ", now=_at(5))
    assert not TimelineEntry.objects.exists()


def test_executive_and_outsiders_cannot_write_on_the_timeline(crisis, executive):
    stranger = cabinet_member_user("stranger")
    seat(a_crisis(title="Other", commander=UserFactory(username="b2")), stranger)
    for actor in (executive, stranger):
        with pytest.raises(PermissionDenied):
            timeline.add_timeline_entry(actor=actor, crisis=crisis, text="x", now=_at(1))


def test_a_mention_of_a_linked_incident_can_be_pinned(crisis, member):
    case = incident()
    link(crisis, case)
    entry = timeline.pin_mention(
        actor=member, crisis=crisis, mention=case.first_mention, now=_at(1)
    )
    assert entry.at == case.first_mention.published_at


def test_an_unrelated_mention_cannot_be_pinned_and_a_pin_is_made_once(crisis, member):
    unrelated = _on_topic(_at(1), topics=("shipping",))
    with pytest.raises(ValidationError):
        timeline.pin_mention(actor=member, crisis=crisis, mention=unrelated, now=_at(2))
    on_topic = _on_topic(_at(1), topics=("#cobros",))
    timeline.pin_mention(actor=member, crisis=crisis, mention=on_topic, now=_at(2))
    with pytest.raises(ValidationError):
        timeline.pin_mention(actor=member, crisis=crisis, mention=on_topic, now=_at(3))
    assert TimelineEntry.objects.count() == 1


def test_find_mention_by_number_or_address(crisis):
    mention = _on_topic(_at(1))
    mention.url = "https://bsky.app/profile/x/post/1"
    mention.save()
    assert timeline.find_mention(str(mention.pk)) == mention
    assert timeline.find_mention("https://bsky.app/profile/x/post/1") == mention
    assert timeline.find_mention("javascript:alert(1)") is None
    assert timeline.find_mention("99999999999999999999999") is None


# --- the chart -------------------------------------------------------------------------------


def test_hourly_volume_and_negative_share_on_known_data(crisis):
    resolved = DECLARED + timedelta(hours=2, minutes=30)
    crisis.resolved_at = resolved
    crisis.save()
    start = DECLARED - timedelta(hours=24)
    # Hour 0 of the window: 2 mentions, 1 negative.
    _on_topic(start + timedelta(minutes=5))
    _on_topic(start + timedelta(minutes=55), sentiment=0.4)
    # The hour of the declaration: 4 mentions (one on both topics, counted once), 3 negative;
    # one neutral-ish (-0.05) is not negative.
    _on_topic(DECLARED, topics=("billing", "#cobros"))
    _on_topic(DECLARED + timedelta(minutes=10))
    _on_topic(DECLARED + timedelta(minutes=20), sentiment=-0.05)
    _on_topic(DECLARED + timedelta(minutes=59), topics=("#cobros",))
    # An hour later: a mention not scored yet counts in the volume only.
    unscored = _on_topic(DECLARED + timedelta(hours=1, minutes=1))
    MentionScore.objects.filter(mention=unscored).delete()
    # Left out: another topic, a drill's mention, before the window, after the resolution.
    _on_topic(DECLARED, topics=("shipping",))
    _on_topic(DECLARED, origin="run:7")
    _on_topic(start - timedelta(minutes=1))
    _on_topic(resolved + timedelta(minutes=1))

    series = timeline.hourly_volume(crisis, now=DECLARED + timedelta(days=3))
    assert series.start == start and series.end == resolved and series.hours_per_bar == 1
    assert len(series.buckets) == 27  # 24 before, the declaration's hour, two more
    by_hour = {bucket.start: bucket for bucket in series.buckets}
    assert (by_hour[start].volume, by_hour[start].negative) == (2, 1)
    assert by_hour[start].negative_share == 0.5
    declared = by_hour[DECLARED]
    assert (declared.volume, declared.negative) == (4, 3)
    later = by_hour[DECLARED + timedelta(hours=1)]
    assert (later.volume, later.negative) == (1, 0)
    # An hour without mentions: zero, and no share at all.
    quiet = by_hour[start + timedelta(hours=1)]
    assert (quiet.volume, quiet.negative, quiet.negative_share) == (0, 0, None)
    assert series.total == 7 and series.peak.start == DECLARED


def test_a_long_crisis_is_drawn_with_wider_bars(crisis):
    series = timeline.hourly_volume(crisis, now=DECLARED + timedelta(days=20))
    assert series.hours_per_bar == 4
    assert len(series.buckets) <= timeline.MAX_BARS
    assert series.buckets[0].start == DECLARED - timedelta(hours=24)


def test_a_crisis_without_topics_has_an_empty_chart(db):
    crisis = a_crisis(topics=(), declared_at=DECLARED)
    series = timeline.hourly_volume(crisis, now=DECLARED)
    assert series.total == 0 and series.peak is None


def test_chart_svg_has_title_desc_and_a_table(crisis):
    _on_topic(DECLARED + timedelta(minutes=5))
    _on_topic(DECLARED + timedelta(minutes=6), sentiment=0.5)
    _on_topic(DECLARED + timedelta(hours=1, minutes=6))
    series = timeline.hourly_volume(crisis, now=DECLARED + timedelta(hours=1, minutes=30))
    html = render_volume_chart(series, crisis_title="Cobros <dobles>", chart_id="c1")
    assert 'role="img"' in html and 'aria-labelledby="c1-title c1-desc"' in html
    title = re.search(r'<title id="c1-title">(.*?)</title>', html).group(1)
    assert title == "Mentions per hour and negative share: Cobros &lt;dobles&gt;"
    desc = re.search(r'<desc id="c1-desc">(.*?)</desc>', html).group(1)
    assert "3 mentions on the crisis&#x27;s topics" in desc
    assert "Peak: 2 mentions, 1 negative (50 %), from 2 Mar 2026, 10:00" in desc
    assert "Latest: 1 mention, 1 negative (100 %), from 2 Mar 2026, 11:00" in desc
    assert "<table" in html and html.count('<tr><th scope="row">') == 26
    assert "style=" not in html and "<script" not in html


def test_chart_geometry_scales_bars_and_breaks_the_line_on_empty_hours(crisis):
    for minutes in (5, 6, 7, 8):
        _on_topic(DECLARED + timedelta(minutes=minutes))
    _on_topic(DECLARED + timedelta(hours=2, minutes=1), sentiment=0.9)
    series = timeline.hourly_volume(crisis, now=DECLARED + timedelta(hours=2, minutes=30))
    chart = volume_chart(series, title="t", chart_id="c")
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.height == chart.plot_bottom - chart.plot_top  # 4 of an axis topped at 4
    assert tallest.y == chart.plot_top
    # Two hours with mentions, an empty one between: two separate runs of the line.
    assert len(chart.lines) == 2 and len(chart.points) == 2
    assert chart.points[0].y == chart.plot_top  # 100 % negative
    assert chart.points[1].y == chart.plot_bottom  # 0 % negative
    assert chart.declared_x is not None


@pytest.mark.parametrize(
    ("peak", "expected"), [(0, (4, 2)), (3, (4, 1)), (7, (8, 2)), (45, (60, 20)), (130, (150, 50))]
)
def test_volume_axis_has_round_ticks(peak, expected):
    assert nice_ceiling(peak) == expected
