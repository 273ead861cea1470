"""The board's blocks ("fragments"): what each one reads, the list each of its numbers links
to, and its cached HTML.

A fragment is rendered without the request (no context processors, no per-user markup), so
its HTML is the same for every reader and can be cached: the key is (name, the filters, the
board's data version, the language, the current minute). The page, the war room and the
polled endpoints all go through `render_fragment`, so a reader opening the page warms the
cache for everyone's next poll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language, gettext_lazy, ngettext, npgettext

from crisis.board import charts, headline, incident_metrics, mention_metrics
from crisis.board.filters import HOUR, BoardFilters, floor_hour
from crisis.board.mention_metrics import topic_filter
from monitoring.forms import MentionFilterForm
from protocols.scoring.types import topic_label

# How long a rendered fragment stays in the cache; the key changes every minute anyway.
CACHE_SECONDS = 120
POLL_SECONDS = 30


# --- links to the lists behind the numbers ------------------------------------------------
def _iso(moment: datetime) -> str:
    return moment.isoformat()


# The explorer's language choices (a board language it cannot filter on is left out, so the
# link still opens with the other filters).
_MENTION_LANGUAGES = {code for code, _label in MentionFilterForm.base_fields["language"].choices}


def mentions_url(
    f: BoardFilters,
    start: datetime | None = None,
    end: datetime | None = None,
    **narrower: str | int,
) -> str:
    """The mention explorer showing exactly the live mentions counted: the range (or one
    bucket of it), the filters' platform, language and topic, and `narrower` (negative,
    triage, author, or a platform/language/topic of its own)."""
    params: dict[str, str | int] = {
        "since": _iso(start or f.start),
        "until": _iso(end or f.end),
        "platform": f.platform,
        "language": f.language if f.language in _MENTION_LANGUAGES else "",
        "topic": topic_filter(f),
        "live": 1,
    }
    params.update(narrower)
    return f"{reverse('monitoring:mentions')}?{urlencode(_present(params))}"


def incidents_url(f: BoardFilters, **narrower: str) -> str:
    """The (read-only for executives) inbox of open incidents on the filters' topic, platform
    and language, every team's queue, narrowed further by `narrower` (severity, sla, sort)."""
    language = f.language_value
    params = {
        "queue": "team",
        "topic": topic_filter(f),
        "platform": f.platform,
        "language": language if language in _MENTION_LANGUAGES else "",
    }
    params.update(narrower)
    return f"{reverse('inbox')}?{urlencode(_present(params))}"


def _present(params: dict) -> dict:
    return {key: value for key, value in params.items() if value not in ("", None)}


# --- what each fragment reads --------------------------------------------------------------
def headline_context(f: BoardFilters, now: datetime) -> dict:
    return {"headline": headline.headline(now), "as_of": now}


def crises_context(f: BoardFilters, now: datetime) -> dict:
    summaries = incident_metrics.active_crises(now)
    return {
        "crises": [
            {
                "summary": summary,
                "url": reverse("rooms:room", args=[summary.crisis.pk]),
                "age": _duration(summary.age),
                "trend_label": incident_metrics.describe_trend(summary.trend),
                "due_overdue": summary.next_update_due is not None
                and summary.next_update_due <= now,
            }
            for summary in summaries
        ]
    }


def volume_context(f: BoardFilters, now: datetime) -> dict:
    points, totals = mention_metrics.volume_with_totals(f)  # one read of the hours for both
    chart = charts.volume_chart(
        [
            charts.VolumeBucket(
                start=point.start,
                mentions=point.mentions,
                negative=point.negative,
                baseline_mentions=point.baseline_mentions,
                negative_share=point.negative_share,
            )
            for point in points
        ],
        bucket=f.bucket,
        chart_id="board-volume-chart",
        link=lambda start, end: mentions_url(f, start, end),
        end=f.end,
    )
    return {
        "totals": totals,
        "chart": chart,
        "mentions": charts.number(totals.mentions),
        "usual": charts.number(totals.baseline_mentions),
        "negative": charts.number(totals.negative),
        "negative_share": charts.percent(totals.negative_share),
        "usual_share": charts.percent(totals.baseline_negative_share),
        "serious": charts.number(totals.serious),
        "complaints": charts.number(totals.complaints),
        "all_url": mentions_url(f),
        "negative_url": mentions_url(f, negative=1),
        "serious_url": mentions_url(f, severity="serious"),
        "complaints_url": mentions_url(f, complaint=1),
    }


def incidents_context(f: BoardFilters, now: datetime) -> dict:
    counts = incident_metrics.open_incidents_by_severity(f)
    items = [
        charts.BarItem(
            key=count.key,
            label=count.label,
            count=count.count,
            url=incidents_url(f, severity=count.key),
            css=f"severity-{count.key}",
        )
        for count in counts
    ]
    return {
        "total": charts.number(sum(count.count for count in counts)),
        "total_count": sum(count.count for count in counts),
        "any": any(count.count for count in counts),
        "all_url": incidents_url(f, sort="severity"),
        "overdue_url": incidents_url(f, sla="breached", sort="severity"),
        "chart": charts.bar_chart(
            items,
            chart_id="board-incidents-chart",
            title=str(gettext_lazy("Open incidents by severity")),
            value_header=str(gettext_lazy("Open incidents")),
        ),
    }


def exposure_context(f: BoardFilters, now: datetime) -> dict:
    current = incident_metrics.exposure_now(now)
    points = incident_metrics.exposure_series(f, now, current=current)
    url = incidents_url(f, sort="exposure")
    return {
        "value": charts.number(current.value),
        "unanswered": current.unanswered,
        "url": url,
        "chart": charts.exposure_chart(
            [(point.start, point.value) for point in points],
            bucket=f.bucket,
            chart_id="board-exposure-chart",
            url=url,
        ),
    }


def sla_context(f: BoardFilters, now: datetime) -> dict:
    summary = incident_metrics.sla_summary(now)
    return {
        "sla": summary,
        "today_compliance": charts.percent(summary.today_compliance),
        "week_compliance": charts.percent(summary.week_compliance),
        "today_median": _minutes(summary.today_median_minutes),
        "week_median": _minutes(summary.week_median_minutes),
        "week_end": summary.today_start - timedelta(seconds=1),
        "trend": _compliance_trend(summary.today_compliance, summary.week_compliance),
        "overdue_url": incidents_url(f, sla="breached", sort="severity"),
        "open_url": incidents_url(f, sort="severity"),
    }


def agitators_context(f: BoardFilters, now: datetime) -> dict:
    agitators = mention_metrics.top_agitators(f)
    return {
        "agitators": [
            {
                "agitator": agitator,
                "url": mentions_url(f, author=agitator.author_id, negative=1),
                "reach": charts.number(agitator.followers)
                if agitator.followers is not None
                else "",
            }
            for agitator in agitators
        ]
    }


def complaints_context(f: BoardFilters, now: datetime) -> dict:
    classes = mention_metrics.complaint_classes(f)
    topics = mention_metrics.keyword_groups(f)
    return {
        "classes": charts.bar_chart(
            [
                charts.BarItem(c.key, c.label, c.count, mentions_url(f, triage=c.key), "class")
                for c in classes
            ],
            chart_id="board-classes-chart",
            title=str(gettext_lazy("Mentions by triage class")),
            value_header=str(gettext_lazy("Mentions")),
        ),
        "topics": charts.bar_chart(
            [
                charts.BarItem(t.key, t.label, t.count, mentions_url(f, topic=t.key), "topic")
                for t in topics
            ],
            chart_id="board-topics-chart",
            title=str(gettext_lazy("Mentions by keyword group")),
            value_header=str(gettext_lazy("Mentions")),
        ),
    }


def channels_context(f: BoardFilters, now: datetime) -> dict:
    platforms = mention_metrics.by_platform(f)
    languages = mention_metrics.by_language(f)
    return {
        "platforms": charts.bar_chart(
            [
                charts.BarItem(p.key, p.label, p.count, mentions_url(f, platform=p.key), "platform")
                for p in platforms
            ],
            chart_id="board-platforms-chart",
            title=str(gettext_lazy("Mentions by platform")),
            value_header=str(gettext_lazy("Mentions")),
        ),
        "languages": charts.bar_chart(
            [
                charts.BarItem(
                    lang.key, lang.label, lang.count, _language_url(f, lang.key), "language"
                )
                for lang in languages
            ],
            chart_id="board-languages-chart",
            title=str(gettext_lazy("Mentions by language")),
            value_header=str(gettext_lazy("Mentions")),
        ),
    }


def _language_url(f: BoardFilters, code: str) -> str:
    return mentions_url(f, language=code if code in _MENTION_LANGUAGES else "")


def alerts_context(f: BoardFilters, now: datetime) -> dict:
    alerts = incident_metrics.recent_surge_alerts(f)
    return {
        "alerts": [
            {
                "alert": alert,
                "topic": topic_label(alert.topic),
                # number_format cuts decimals: round first, as the headline does (3.46 reads 3.5).
                "factor": charts.formats.number_format(round(alert.factor, 1), 1),
                "expected": charts.formats.number_format(alert.expected, 1),
                "url": mentions_url(
                    f,
                    alert.bucket_start,
                    floor_hour(alert.raised_at) + HOUR,
                    topic=alert.topic,
                ),
            }
            for alert in alerts
        ]
    }


def _duration(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return ngettext("%(days)s day %(hours)s h", "%(days)s days %(hours)s h", days) % {
            "days": days,
            "hours": hours,
        }
    return npgettext(
        "age of a crisis", "%(hours)s h %(minutes)s min", "%(hours)s h %(minutes)s min", hours
    ) % {
        "hours": hours,
        "minutes": minutes,
    }


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    return ngettext("%(count)s min", "%(count)s min", round(value)) % {
        "count": charts.number(value)
    }


def _compliance_trend(today: float | None, week: float | None) -> str:
    """ "better", "worse" or "" (same, or nothing to compare) for today against the week."""
    if today is None or week is None or abs(today - week) < 0.005:
        return ""
    return "better" if today > week else "worse"


# --- the registry and the cache --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fragment:
    name: str
    title: object  # lazy translation
    template: str
    context: Callable[[BoardFilters, datetime], dict]


FRAGMENTS: dict[str, Fragment] = {
    fragment.name: fragment
    for fragment in (
        Fragment(
            "headline", gettext_lazy("Situation"), "board/fragments/headline.html", headline_context
        ),
        Fragment(
            "crises", gettext_lazy("Active crises"), "board/fragments/crises.html", crises_context
        ),
        Fragment(
            "volume",
            gettext_lazy("Mentions and negative share"),
            "board/fragments/volume.html",
            volume_context,
        ),
        Fragment(
            "incidents",
            gettext_lazy("Open incidents"),
            "board/fragments/incidents.html",
            incidents_context,
        ),
        Fragment(
            "exposure", gettext_lazy("Exposure"), "board/fragments/exposure.html", exposure_context
        ),
        Fragment("sla", gettext_lazy("Answering in time"), "board/fragments/sla.html", sla_context),
        Fragment(
            "agitators",
            gettext_lazy("Top agitators"),
            "board/fragments/agitators.html",
            agitators_context,
        ),
        Fragment(
            "complaints",
            gettext_lazy("Complaints and keyword groups"),
            "board/fragments/complaints.html",
            complaints_context,
        ),
        Fragment(
            "channels",
            gettext_lazy("Platforms and languages"),
            "board/fragments/channels.html",
            channels_context,
        ),
        Fragment(
            "alerts",
            gettext_lazy("Recent surge alerts"),
            "board/fragments/alerts.html",
            alerts_context,
        ),
    )
}
PAGE_FRAGMENTS = tuple(FRAGMENTS)
WALL_FRAGMENTS = ("headline", "crises", "volume", "sla", "exposure")


def cache_key(name: str, f: BoardFilters, version: str, now: datetime) -> str:
    """Hashed: the topic is free text, and a cache key must stay short and plain."""
    raw = f"{name}|{f.cache_key()}|{version}|{get_language()}|{now:%Y%m%d%H%M}"
    return "board:fragment:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def render_fragment(name: str, f: BoardFilters, *, now: datetime, version: str) -> SafeString:
    """The fragment's HTML, from the cache when this minute's render of the same data exists."""
    key = cache_key(name, f, version, now)
    html = cache.get(key)
    if html is None:
        fragment = FRAGMENTS[name]
        context = fragment.context(f, now)
        context.update(
            {"fragment": fragment, "filters": f, "as_of_label": date_format(localtime(now), "H:i")}
        )
        html = str(render_to_string(fragment.template, context))
        cache.set(key, html, CACHE_SECONDS)
    # Our own templates rendered it (every value escaped there); the cache holds plain str.
    return mark_safe(html)  # noqa: S308
