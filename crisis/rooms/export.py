"""What a post-mortem shows, on its page and in its exports: the impact figures as a reader
reads them, the timeline chart (the room's own: crisis.rooms.charts, mentions per hour on
the crisis's topics and their negative share, up to the resolution), the backtest in a
sentence, and the Markdown and PDF documents.

The PDF is rendered by WeasyPrint from templates/rooms/postmortem_print.html. Its URL
fetcher serves only Calma's own static files (found by the staticfiles finders) and refuses
everything else, so rendering never touches the network or the file system beyond them.
Everything is rendered in the reader's language (`language`).
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from crisis.rooms.charts import describe, render_volume_chart
from crisis.rooms.models import FollowUpItem, PostMortem
from crisis.rooms.timeline import hourly_volume
from protocols import display as protocol_display

logger = logging.getLogger(__name__)

# The base URL the print template is resolved against: a reserved name that never resolves.
PRINT_BASE_URL = "https://calma.invalid/"


# --- Figures as a reader reads them ------------------------------------------------------------


def number_label(value) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, force_grouping=True)


def minutes_label(minutes: float | None) -> str:
    """12.5 → "13 min", 95 → "1 h 35 min", a negative value with a minus sign; None → "—"."""
    if minutes is None:
        return "—"
    sign = "−" if minutes < 0 else ""
    total = round(abs(minutes))
    hours, rest = divmod(total, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        text = gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    elif hours and not rest:
        text = gettext("%(hours)s h") % {"hours": hours}
    elif hours:
        text = gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    else:
        text = gettext("%(minutes)s min") % {"minutes": rest}
    return sign + text


def datetime_label(value: str | datetime | None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def money_label(amounts: dict[str, str]) -> str:
    if not amounts:
        return "—"
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(amounts.items()))


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    value: str
    help: str = ""


def impact_rows(impact: dict) -> list[Figure]:
    """The impact figures in the order the page and the exports show them."""
    if not impact:
        return []
    return [
        Figure("mentions", gettext("Mentions"), number_label(impact.get("mentions"))),
        Figure(
            "unique_authors", gettext("Unique authors"), number_label(impact.get("unique_authors"))
        ),
        Figure(
            "reach",
            gettext("Reach"),
            number_label(impact.get("reach")),
            gettext("Followers of those authors, each author once."),
        ),
        Figure(
            "exposure",
            gettext("Exposure"),
            number_label(impact.get("exposure")),
            gettext("Reach times minutes unanswered in public, over the linked incidents."),
        ),
        Figure("incidents", gettext("Incidents"), number_label(impact.get("incidents"))),
        Figure(
            "first_response_p50",
            gettext("First response, median"),
            minutes_label(impact.get("first_response_p50_minutes")),
        ),
        Figure(
            "first_response_p90",
            gettext("First response, 90th percentile"),
            minutes_label(impact.get("first_response_p90_minutes")),
        ),
        Figure("sla_breaches", gettext("SLA breaches"), number_label(impact.get("sla_breaches"))),
        Figure(
            "compensation",
            gettext("Compensation granted"),
            money_label(impact.get("compensation_granted") or {}),
        ),
        Figure(
            "first_serious_mention",
            gettext("First serious mention"),
            datetime_label(impact.get("first_serious_mention_at")),
            gettext("The earliest high or critical mention on the crisis's topics or incidents."),
        ),
        Figure(
            "to_suggestion",
            gettext("From it to the crisis suggestion"),
            minutes_label(impact.get("minutes_to_suggestion")),
        ),
        Figure(
            "to_declaration",
            gettext("From it to the declaration"),
            minutes_label(impact.get("minutes_to_declaration")),
        ),
        Figure(
            "to_first_statement",
            gettext("From it to the first statement"),
            minutes_label(impact.get("minutes_to_first_statement")),
        ),
    ]


# --- The backtest in words ---------------------------------------------------------------------


def backtest_summary(backtest: dict) -> str:
    """ "With this draft the crisis would have been suggested 45 min earlier." or its variants."""
    if (backtest or {}).get("status") != "done":
        return ""
    suggested = backtest.get("suggested") or {}
    original, draft = suggested.get("original"), suggested.get("draft")
    if original and draft:
        minutes = backtest.get("minutes_earlier") or 0
        if minutes > 0:
            return gettext(
                "With this draft the crisis would have been suggested %(time)s earlier."
            ) % {"time": minutes_label(minutes)}
        if minutes < 0:
            return gettext(
                "With this draft the crisis would have been suggested %(time)s later."
            ) % {"time": minutes_label(-minutes)}
        return gettext("With this draft the crisis would have been suggested at the same time.")
    if draft:
        return gettext(
            "With this draft the crisis would have been suggested at %(at)s; the protocol it ran "
            "on would not have suggested it."
        ) % {"at": datetime_label(draft)}
    if original:
        return gettext(
            "With this draft the crisis would not have been suggested (the protocol it ran on "
            "suggested it at %(at)s)."
        ) % {"at": datetime_label(original)}
    return gettext("Neither version would have suggested a crisis on its topics.")


def changed_summary(backtest: dict) -> str:
    """ "7 mentions would change severity: 7 Medium → High (5 of them before the crisis)."."""
    if (backtest or {}).get("status") != "done":
        return ""
    changed = backtest.get("changed", 0)
    if not changed:
        return gettext("No replayed mention would change severity.")
    moves = ", ".join(
        f"{count} {protocol_display.move_label(move)}"
        for move, count in sorted(backtest.get("severity_moves", {}).items())
    )
    text = ngettext(
        "%(count)s mention would change severity: %(moves)s.",
        "%(count)s mentions would change severity: %(moves)s.",
        changed,
    ) % {"count": changed, "moves": moves}
    before = backtest.get("changed_before_crisis", 0)
    if before:
        text += " " + ngettext(
            "%(count)s of them was published before the crisis's first serious mention.",
            "%(count)s of them were published before the crisis's first serious mention.",
            before,
        ) % {"count": before}
    return text


# --- Markdown ----------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = str.maketrans({char: f"\\{char}" for char in "\\`*_[]<>|~#"})
_LINE_START = ("-", "+", "=", ">")


def md_text(value: str) -> str:
    """Untrusted text as literal Markdown: specials escaped, no line turns into markup (a list
    item, a heading, a quote, a setext underline, a numbered item)."""
    lines = []
    for line in str(value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        escaped = line.translate(_MARKDOWN_SPECIAL)
        indent = escaped[: len(escaped) - len(escaped.lstrip())]
        rest = escaped.lstrip()
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        if rest.startswith(_LINE_START):
            escaped = f"{indent}\\{rest}"
        elif digits and rest[len(digits) : len(digits) + 1] in (".", ")"):
            escaped = f"{indent}{digits}\\{rest[len(digits) :]}"
        lines.append(escaped)
    return "\n".join(lines)


def md_cell(value: str) -> str:
    return md_text(" ".join(str(value or "").split()))


def _md_table(header: list[str], rows: list[list[str]], *, align: str = "---") -> list[str]:
    lines = ["| " + " | ".join(md_cell(cell) for cell in header) + " |"]
    lines.append("|" + "|".join(f" {align} " for _cell in header) + "|")
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _md_section(title: str, text: str) -> list[str]:
    return ["## " + md_text(title), "", md_text(text) if text.strip() else "—", ""]


def markdown(post_mortem: PostMortem, *, language: str, now: datetime) -> str:
    """The post-mortem as a Markdown document, in `language` (every stored text escaped)."""
    with translation.override(language):
        context = document_context(post_mortem, now=now)
        crisis = context["crisis"]
        title = gettext("Post-mortem: %(title)s") % {"title": crisis.title}
        facts = [
            (
                gettext("Crisis"),
                f"#{crisis.pk}, " + gettext("level %(level)s") % {"level": crisis.level},
            ),
            (gettext("Topics"), ", ".join(crisis.topics or ()) or "—"),
            (gettext("Declared"), context["declared_label"]),
            (gettext("Resolved"), context["resolved_label"]),
            (gettext("State"), str(post_mortem.get_state_display())),
            (gettext("Completed"), context["completed_label"]),
        ]
        out = ["# " + md_text(title), ""]
        out += ["- " + md_cell(label) + ": " + md_cell(value) for label, value in facts]
        out.append("")
        out += _md_section(*context["sections"][0])
        out += ["## " + gettext("Impact"), ""]
        if context["figures"]:
            out += [
                gettext("Computed from the data at %(at)s.") % {"at": context["computed_label"]},
                "",
            ]
            out += _md_table(
                [gettext("Figure"), gettext("Value")],
                [[row.label, row.value] for row in context["figures"]],
            )
        else:
            out += ["—", ""]
        out += ["## " + gettext("Timeline"), ""]
        series = context["series"]
        out += [md_text(describe(series)), ""]
        if series.total:
            out += _md_table(
                [gettext("From"), gettext("Mentions"), gettext("Negative")],
                [
                    [datetime_label(bucket.start), str(bucket.volume), str(bucket.negative)]
                    for bucket in series.buckets
                    if bucket.volume
                ],
            )
        for section in context["sections"][1:]:
            out += _md_section(*section)
        out += ["## " + gettext("Follow-up items"), ""]
        if context["items"]:
            out += _md_table(
                [gettext("Item"), gettext("Owner"), gettext("Due"), gettext("Done")],
                [
                    [
                        item.title,
                        item.owner.get_username(),
                        formats.date_format(item.due_on, "SHORT_DATE_FORMAT"),
                        datetime_label(item.done_at),
                    ]
                    for item in context["items"]
                ],
            )
        else:
            out += ["—", ""]
        out += ["## " + gettext("Proposed protocol changes"), ""]
        draft = post_mortem.protocol_draft
        if draft is None:
            out += [gettext("No protocol draft was proposed."), ""]
        else:
            out += [gettext("Draft protocol version v%(number)s.") % {"number": draft.number}, ""]
            if context["backtest_summary"]:
                out += [context["backtest_summary"], "", md_text(context["changed_summary"]), ""]
                for change in context["backtest"].get("changed_mentions", []):
                    move = protocol_display.move_label(
                        f"{change['before']['severity']}>{change['after']['severity']}"
                    )
                    out.append(
                        "- "
                        + " · ".join(
                            md_cell(part)
                            for part in (
                                datetime_label(change["published_at"]),
                                change["author"],
                                move,
                                change["text"],
                            )
                        )
                    )
                out.append("")
        return "\n".join(out).rstrip() + "\n"


def document_context(post_mortem: PostMortem, *, now: datetime) -> dict:
    """What every rendering of the post-mortem shows (one query for the items)."""
    crisis = post_mortem.crisis
    series = hourly_volume(crisis, now=now)
    items = list(FollowUpItem.objects.filter(post_mortem=post_mortem).select_related("owner"))
    sections = [
        (gettext("Summary"), post_mortem.summary),
        (gettext("Root cause"), post_mortem.root_cause),
        (gettext("Processes and policies involved"), post_mortem.processes),
        (gettext("What worked"), post_mortem.what_worked),
        (gettext("What did not"), post_mortem.what_did_not),
    ]
    return {
        "post_mortem": post_mortem,
        "crisis": crisis,
        "figures": impact_rows(post_mortem.impact),
        "series": series,
        "chart": render_volume_chart(
            series, crisis_title=crisis.title, chart_id=f"post-mortem-chart-{crisis.pk}"
        ),
        "sections": sections,
        "items": items,
        "backtest": post_mortem.backtest or {},
        "backtest_summary": backtest_summary(post_mortem.backtest),
        "changed_summary": changed_summary(post_mortem.backtest),
        "computed_label": datetime_label(post_mortem.impact_computed_at),
        "declared_label": datetime_label(crisis.declared_at),
        "resolved_label": datetime_label(crisis.resolved_at),
        "completed_label": datetime_label(post_mortem.completed_at),
    }


# --- PDF ---------------------------------------------------------------------------------------


class StaticFilesOnly(Exception):
    """The print template asked for something that is not one of Calma's static files."""


def static_file_for(url: str) -> Path:
    """The local file of one of Calma's static files named by `url` (resolved against
    PRINT_BASE_URL), or StaticFilesOnly: another host, scheme or path, or no such file."""
    parts = urlsplit(url)
    base = urlsplit(PRINT_BASE_URL)
    static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        raise StaticFilesOnly(f"refused (not Calma's static files): {url[:200]}")
    path = unquote(parts.path)
    if not path.startswith(static_prefix):
        raise StaticFilesOnly(f"refused (not under {static_prefix}): {url[:200]}")
    relative = path.removeprefix(static_prefix)
    if not relative or ".." in Path(relative).parts or "\x00" in relative:
        raise StaticFilesOnly(f"refused (bad path): {url[:200]}")
    found = finders.find(relative)
    if not found:
        raise StaticFilesOnly(f"no such static file: {relative[:200]}")
    return Path(found)


MIME_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}


def url_fetcher():
    """A WeasyPrint URL fetcher serving only Calma's static files (no network, no other file)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class CalmaStaticFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path = static_file_for(url)
            mime_type = MIME_TYPES.get(path.suffix.lower())
            if mime_type is None:
                raise StaticFilesOnly(f"refused (not a stylesheet, image or font): {path.name}")
            return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": mime_type})

    return CalmaStaticFetcher()


def pdf(post_mortem: PostMortem, *, language: str, now: datetime) -> bytes:
    """The post-mortem as a PDF, in `language`."""
    from weasyprint import HTML

    with translation.override(language):
        context = document_context(post_mortem, now=now)
        context["language"] = language
        html = render_to_string("rooms/postmortem_print.html", context)
        return HTML(string=html, base_url=PRINT_BASE_URL, url_fetcher=url_fetcher()).write_pdf()
