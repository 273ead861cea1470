"""The crisis board's page, live fragments and war room as an executive sees them: the figures
of a small fixture, the lists each number opens, the filters kept in every URL, hostile filter
values, the fragment cache and its data version, and the queries each fragment costs."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from crisis.board import fragments, incident_rollups, rollups
from crisis.board.filters import parse_filters
from crisis.board.fragments import FRAGMENTS, WALL_FRAGMENTS, cache_key, render_fragment
from crisis.incidents.models import IncidentState
from monitoring.models import Mention
from protocols.models import MentionScore, MentionTopic
from tests.incidents.factories import author, incident, scored_mention

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
NAMES = tuple(FRAGMENTS)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _mention(*, at, severity="high", triage="complaint_company_fault", sentiment=-0.5, **kw):
    mention = scored_mention(severity=severity, triage_class=triage, published_at=at, **kw)
    MentionScore.objects.filter(mention=mention).update(sentiment=sentiment)
    return mention


def _topic(mention: Mention, topic: str) -> None:
    MentionTopic.objects.create(
        mention=mention, topic=topic, published_at=mention.published_at, origin=mention.origin
    )


def _rebuild() -> None:
    rollups.rebuild_range(NOW - timedelta(days=45), NOW + timedelta(hours=1))
    incident_rollups.rebuild_range(NOW - timedelta(days=45), NOW + timedelta(hours=1))


@pytest.fixture
def board_data(clock):
    """In the last 24 hours: three live mentions (two negative, one positive; two on
    "billing"; one in English on Mastodon) and one drill mention that never counts; open
    incidents opened 40 days ago (two high, one critical), all past their SLA."""
    loud = author("angry-customer", followers=5000)
    first = _mention(at=NOW - timedelta(hours=2), by=loud)
    _topic(first, "billing")
    _mention(at=NOW - timedelta(hours=1), severity="low", triage="praise", sentiment=0.6)
    third = _mention(
        at=NOW - timedelta(minutes=30),
        severity="critical",
        by=author("troll", followers=10, platform="mastodon"),
    )
    Mention.objects.filter(pk=third.pk).update(language="en")
    _topic(third, "billing")
    _mention(at=NOW - timedelta(hours=3), origin="run:7")  # a drill
    long_ago = NOW - timedelta(days=40)
    cases = [incident(severity=severity, at=long_ago) for severity in ("high", "high", "critical")]
    incident(severity="low", at=long_ago, state=IncidentState.CLOSED)
    _rebuild()
    return {"loud": loud, "incidents": cases}


def _get(client, user, url, **headers):
    client.force_login(user)
    return client.get(url, headers=headers)


def _fragment(client, user, name, query="", htmx=True):
    url = reverse("board_fragment", args=[name]) + (f"?{query}" if query else "")
    return _get(client, user, url, **(HTMX if htmx else {}))


def _links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def _link_to(html: str, path: str, **expected: str) -> str:
    """The first link to `path` whose query holds `expected` (each value exactly)."""
    for href in _links(html):
        parts = urlsplit(href)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == path and all(query.get(k) == v for k, v in expected.items()):
            return href
    raise AssertionError(f"no link to {path} with {expected} in the fragment")


# --- the page and each fragment ---------------------------------------------------------------


def test_page_shows_every_fragment_in_a_polled_block(client, executive, board_data):
    response = _get(client, executive, reverse("board"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in NAMES:
        assert f'id="{name}"' in html
        assert f'hx-get="{reverse("board_fragment", args=[name])}?range=24h"' in html
    assert html.count('aria-live="polite"') == 1  # the headline only
    assert 'hx-trigger="every 30s, board:refresh"' in html
    # The topic suggestions are not read with the page: htmx fetches them on first focus.
    assert '<datalist id="board-topics"></datalist>' in html
    assert f'hx-get="{reverse("board_topics")}" hx-trigger="focus once"' in html


def test_topic_suggestions_are_fetched_apart_as_datalist_options(
    client, executive, board_data, django_assert_max_num_queries
):
    client.force_login(executive)
    # Session, user, permissions, the week's topics.
    with django_assert_max_num_queries(5):
        response = client.get(reverse("board_topics"), headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip() == '<option value="billing"></option>'


def test_topic_suggestions_are_a_page_of_links_without_htmx(client, executive, board_data):
    # Every htmx endpoint also works as a full page (a link opened in a new tab, a crawler).
    client.force_login(executive)
    html = client.get(reverse("board_topics")).content.decode()
    assert "<h1>" in html
    assert f'href="{reverse("board")}?topic=billing"' in html


def test_topic_suggestions_need_the_board_permission(client, manager):
    client.force_login(manager)
    assert client.get(reverse("board_topics")).status_code == 403


@pytest.mark.parametrize("name", NAMES)
def test_each_fragment_answers_htmx_with_its_block_alone(client, executive, board_data, name):
    response = _fragment(client, executive, name)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="{name}-title"' in html
    assert "<html" not in html


@pytest.mark.parametrize("name", NAMES)
def test_each_fragment_is_a_full_page_without_htmx(client, executive, board_data, name):
    response = _fragment(client, executive, name, htmx=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and f'id="{name}"' in html and "data-board-poll" in html


def test_unknown_fragment_is_not_found(client, executive):
    assert _fragment(client, executive, "nope").status_code == 404


def test_volume_counts_live_mentions_and_links_the_list_behind_each_number(
    client, executive, board_data
):
    html = _fragment(client, executive, "volume").content.decode()
    explorer = reverse("monitoring:mentions")
    everything = _link_to(html, explorer, live="1")
    negative = _link_to(html, explorer, live="1", negative="1")
    assert 'class="figure">3</a>' in html  # the drill's mention is not counted
    assert "67 %" in html  # two of three scored mentions are negative
    assert f'href="{negative.replace("&", "&amp;")}" class="figure">67 %' in html
    # The lists behind them hold exactly those mentions (the executive may open them).
    listed = _get(client, executive, everything).content.decode()
    assert "3 mentions" in listed
    assert "2 mentions" in _get(client, executive, negative).content.decode()


def test_volume_chart_is_accessible_svg_with_a_table_and_a_link_per_hour(
    client, executive, board_data
):
    html = _fragment(client, executive, "volume").content.decode()
    assert 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "stroke-dasharray" in html  # the usual level
    assert '<details class="chart-table">' in html and "<table" in html
    bucket = _link_to(html, reverse("monitoring:mentions"), since="2026-03-02T08:00:00+00:00")
    assert "1 mention" in _get(client, executive, bucket).content.decode()


def test_incidents_by_severity_link_to_the_read_only_inbox_filtered(client, executive, board_data):
    html = _fragment(client, executive, "incidents").content.decode()
    assert 'class="figure">3</a>' in html
    high = _link_to(html, reverse("inbox"), severity="high", queue="team")
    inbox = _get(client, executive, high).content.decode()
    assert inbox.count('class="inbox-row"') == 2
    assert "inbox-bulk" not in inbox and "data-take" not in inbox


def test_headline_names_the_overdue_serious_incidents(client, executive, board_data):
    html = _fragment(client, executive, "headline").content.decode()
    assert 'data-level="watch"' in html
    assert "3 high or critical incidents are past their SLA" in html
    assert "10:30" in unescape(html) or "11:30" in unescape(html)  # the last update, local


def test_agitators_link_to_the_authors_negative_mentions(client, executive, board_data):
    html = _fragment(client, executive, "agitators").content.decode()
    assert "angry-customer" in html and "5,000" in html
    link = _link_to(
        html, reverse("monitoring:mentions"), author=str(board_data["loud"].pk), negative="1"
    )
    assert "1 mention" in _get(client, executive, link).content.decode()


def test_complaints_and_channels_link_by_class_topic_platform_and_language(
    client, executive, board_data
):
    complaints = _fragment(client, executive, "complaints").content.decode()
    assert "Complaint: company at fault" in complaints
    by_topic = _link_to(complaints, reverse("monitoring:mentions"), topic="billing")
    assert "2 mentions" in _get(client, executive, by_topic).content.decode()
    channels = _fragment(client, executive, "channels").content.decode()
    english = _link_to(channels, reverse("monitoring:mentions"), language="en")
    assert "1 mention" in _get(client, executive, english).content.decode()
    _link_to(channels, reverse("monitoring:mentions"), platform="mastodon")


def test_fresh_install_shows_a_calm_board_that_explains_each_block(client, executive, clock):
    html = _get(client, executive, reverse("board")).content.decode()
    assert 'data-level="calm"' in html
    assert html.count('class="empty-state"') >= 8
    assert "No active crisis." in html and "No surge in this period." in html


# --- filters -----------------------------------------------------------------------------------


def test_filters_are_kept_in_every_fragment_url_and_link(client, executive, board_data):
    query = "range=7d&platform=bluesky&language=es&topic=billing"
    html = _get(client, executive, f"{reverse('board')}?{query}").content.decode()
    for name in NAMES:
        url = f"{reverse('board_fragment', args=[name])}?{query}"
        assert f'hx-get="{url.replace("&", "&amp;")}"' in html
    volume = _fragment(client, executive, "volume", query).content.decode()
    _link_to(
        volume,
        reverse("monitoring:mentions"),
        platform="bluesky",
        language="es",
        topic="billing",
        live="1",
    )
    incidents = _fragment(client, executive, "incidents", query).content.decode()
    _link_to(incidents, reverse("inbox"), platform="bluesky", topic="billing", sort="severity")


def test_custom_dates_fill_the_date_inputs(client, executive, clock):
    html = _get(
        client,
        executive,
        f"{reverse('board')}?range=custom&date_from=2026-02-20&date_to=2026-02-25",
    ).content.decode()
    assert 'value="2026-02-20"' in html and 'value="2026-02-25"' in html


HOSTILE = [
    "range=%00",
    "range=custom&date_from=0001-01-01&date_to=9999-12-31",
    "range=custom&date_from=2026-99-99",
    "date_from=2030-01-01&date_to=2020-01-01&range=custom",
    "platform=<script>&language=xx",
    "topic=" + "x" * 5000,
    "topic=%00%ff%fe",
    "topic=%ED%A0%80",
    "range=24h&range=7d&topic=a&topic=b",
    "theme=<svg>",
    "language=und",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_filter_values_never_break_the_board(client, executive, board_data, query):
    client.force_login(executive)
    for url in (
        reverse("board"),
        reverse("board_wall"),
        reverse("board_fragment", args=["volume"]),
    ):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
        assert "<script>" not in response.content.decode()
    for name in NAMES:
        assert (
            client.get(
                f"{reverse('board_fragment', args=[name])}?{query}", headers=HTMX
            ).status_code
            == 200
        )


# --- the war room ---------------------------------------------------------------------------


def test_wall_shows_its_five_blocks_without_navigation(client, executive, board_data):
    html = _get(client, executive, reverse("board_wall")).content.decode()
    for name in WALL_FRAGMENTS:
        assert f'id="{name}"' in html
    assert 'id="agitators"' not in html and 'aria-label="Main"' not in html
    assert "data-theme" not in html.split("<head>")[0]
    assert "Last updated" in html


@pytest.mark.parametrize(("theme", "expected"), [("dark", "dark"), ("light", "light")])
def test_wall_theme_is_set_on_the_html_element(client, executive, clock, theme, expected):
    html = _get(client, executive, f"{reverse('board_wall')}?theme={theme}").content.decode()
    assert f'data-theme="{expected}"' in html.split("<head>")[0]


# --- the cache ------------------------------------------------------------------------------


def test_a_fragment_is_served_from_the_cache_until_the_data_version_moves(
    client, executive, board_data, django_assert_max_num_queries
):
    client.force_login(executive)
    url = reverse("board_fragment", args=["volume"])
    first = client.get(url, headers=HTMX).content.decode()
    assert 'class="figure">3</a>' in first
    # Within the same minute and with the same data: the cached HTML (no metric query):
    # session, user, permissions (2) and the data version.
    with django_assert_max_num_queries(5):
        assert client.get(url, headers=HTMX).content.decode() == first
    _mention(at=NOW - timedelta(minutes=10))
    _rebuild()  # a new rollup row moves the data version
    assert 'class="figure">4</a>' in _fragment(client, executive, "volume").content.decode()


def test_the_cache_key_holds_the_filters_the_version_the_language_and_the_minute(clock):
    f = parse_filters({}, now=NOW)
    key = cache_key("volume", f, "v1", NOW)
    assert key != cache_key("volume", parse_filters({"range": "7d"}, now=NOW), "v1", NOW)
    assert key != cache_key("volume", f, "v2", NOW)
    assert key != cache_key("volume", f, "v1", NOW + timedelta(minutes=1))
    assert key != cache_key("sla", f, "v1", NOW)
    with translation.override("es"):
        assert key != cache_key("volume", f, "v1", NOW)


def test_render_fragment_fills_the_cache_once(clock, board_data):
    f = parse_filters({}, now=NOW)
    html = render_fragment("alerts", f, now=NOW, version="same")
    assert cache.get(cache_key("alerts", f, "same", NOW)) == str(html)


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_each_fragment_costs_a_bounded_number_of_queries(
    client, executive, board_data, name, django_assert_max_num_queries
):
    client.force_login(executive)
    url = reverse("board_fragment", args=[name])
    # Session, user, permissions, data version, then the fragment's own reads (cold cache).
    with django_assert_max_num_queries(12):
        assert client.get(url, headers=HTMX).status_code == 200


def test_the_page_costs_a_bounded_number_of_queries(
    client, executive, board_data, django_assert_max_num_queries
):
    client.force_login(executive)
    with django_assert_max_num_queries(45):
        assert client.get(reverse("board")).status_code == 200
    with django_assert_max_num_queries(12):  # warm: each block from the cache
        assert client.get(reverse("board")).status_code == 200


def test_links_in_fragments_never_carry_an_unsafe_scheme(client, executive, board_data):
    for name in NAMES:
        for href in _links(_fragment(client, executive, name).content.decode()):
            assert href.startswith(("/", "https://", "http://", "#")), (name, href)


def test_poll_seconds_is_the_documented_thirty(client):
    assert fragments.POLL_SECONDS == 30


# --- chart geometry (pure) --------------------------------------------------------------


def _bucket(hour: int, mentions: int, share: float | None, usual: float = 1.0):
    from crisis.board.charts import VolumeBucket

    return VolumeBucket(
        start=NOW.replace(hour=hour, minute=0),
        mentions=mentions,
        negative=round(mentions * (share or 0)),
        baseline_mentions=usual,
        negative_share=share,
    )


def test_an_hour_with_nothing_scored_breaks_the_negative_share_line():
    from crisis.board.charts import volume_chart

    points = [_bucket(1, 4, 0.5), _bucket(2, 0, None), _bucket(3, 2, 1.0), _bucket(4, 2, 0.0)]
    chart = volume_chart(
        points, bucket=timedelta(hours=1), chart_id="c", link=lambda s, e: "/x", end=NOW
    )
    assert len(chart.share_lines) == 2 and len(chart.share_lines[1].split()) == 2
    assert len(chart.columns) == len(chart.rows) == 4
    assert [row.cells[0] for row in chart.rows] == ["4", "0", "2", "2"]
    assert "Peak:" in chart.desc


def test_bars_are_proportional_and_an_empty_chart_says_so():
    from crisis.board.charts import BAR_LABEL, BAR_VALUE, BAR_WIDTH, BarItem, bar_chart

    chart = bar_chart(
        [BarItem("a", "A", 10, "/a"), BarItem("b", "B", 5, "/b")],
        chart_id="c",
        title="t",
        value_header="n",
    )
    full = BAR_WIDTH - BAR_LABEL - BAR_VALUE
    assert [bar.width for bar in chart.bars] == [full, full / 2]
    assert chart.desc == "A: 10; B: 5"
    assert bar_chart([], chart_id="e", title="t", value_header="n").desc == "Nothing to count."
