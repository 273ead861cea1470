"""The crisis board: the executive's page, its live fragments and the war-room wall.

Every view is read-only (GET) and needs Perm.VIEW_BOARD. The filters come from the URL
(crisis.board.filters: a bad value is dropped, never a 500) and every fragment URL carries
them, so a shared or polled link shows the same board.
"""

from datetime import datetime

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisis.board.filters import (
    HOUR,
    BoardFilterForm,
    BoardFilters,
    organisation_zone,
    parse_filters,
)
from crisis.board.fragments import (
    FRAGMENTS,
    PAGE_FRAGMENTS,
    POLL_SECONDS,
    WALL_FRAGMENTS,
    render_fragment,
)
from crisis.board.mention_metrics import known_topics
from crisis.board.version import data_version
from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial

THEMES = ("light", "dark")


def _blocks(names: tuple[str, ...], f: BoardFilters, now: datetime) -> list[dict]:
    """Each fragment's cached HTML with the URL that refreshes it (one data_version read)."""
    version = data_version()
    query = f.as_query()
    return [
        {
            "name": name,
            "title": FRAGMENTS[name].title,
            "html": render_fragment(name, f, now=now, version=version),
            "url": reverse("board_fragment", args=[name]) + (f"?{query}" if query else ""),
        }
        for name in names
    ]


def _filter_form(request: HttpRequest) -> BoardFilterForm:
    form = BoardFilterForm(request.GET or None)
    form.is_valid()  # shows what was typed; the board itself reads parse_filters
    return form


def _custom_dates(f: BoardFilters) -> dict:
    """The date inputs' values: the custom range's first and last local days (else empty)."""
    if f.range_key != "custom":
        return {"date_from": "", "date_to": ""}
    zone = organisation_zone()
    return {
        "date_from": f.start.astimezone(zone).date().isoformat(),
        "date_to": (f.end - HOUR).astimezone(zone).date().isoformat(),
    }


@require_GET
@permission_required(Perm.VIEW_BOARD, raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    f = parse_filters(request.GET, now=now)
    context = {
        "filters": f,
        "form": _filter_form(request),
        "blocks": _blocks(PAGE_FRAGMENTS, f, now),
        "poll_seconds": POLL_SECONDS,
        "wall_url": reverse("board_wall") + (f"?{f.as_query()}" if f.as_query() else ""),
        **_custom_dates(f),
    }
    return render(request, "board/board.html", context)


@require_GET
@permission_required(Perm.VIEW_BOARD, raise_exception=True)
def topics(request: HttpRequest) -> HttpResponse:
    """The topic filter's suggestions, as the <option>s of its <datalist>: htmx fetches them
    the first time the field gets focus, so the page itself never reads a week of topic rows
    (a board rendered to look at, or on the wall, never needs them)."""
    return render_page_or_partial(
        request,
        "board/topics.html",
        "board/partials/topic_options.html",
        {"topics": known_topics()},
    )


@require_GET
@permission_required(Perm.VIEW_BOARD, raise_exception=True)
def fragment(request: HttpRequest, name: str) -> HttpResponse:
    """One block: its bare HTML for htmx's poll (no layout, no context processors: a poll
    costs the data version and, once a minute, the block's own reads), else a full page, as
    crisis.views.rendering.render_page_or_partial does for every htmx endpoint."""
    if name not in FRAGMENTS:
        raise Http404
    now = timezone.now()
    f = parse_filters(request.GET, now=now)
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return HttpResponse(render_fragment(name, f, now=now, version=data_version()))
    context = {
        "filters": f,
        "the_block": _blocks((name,), f, now)[0],  # not "block": {% block %} shadows it
        "poll_seconds": POLL_SECONDS,
        "board_url": reverse("board") + (f"?{f.as_query()}" if f.as_query() else ""),
    }
    return render(request, "board/fragment_page.html", context)


@require_GET
@permission_required(Perm.VIEW_BOARD, raise_exception=True)
def wall(request: HttpRequest) -> HttpResponse:
    """The war room: the headline, crises, volume, SLA and exposure in type readable across a
    room; ?theme=dark|light forces a theme, else the screen's preference decides."""
    now = timezone.now()
    f = parse_filters(request.GET, now=now)
    theme = request.GET.get("theme", "")
    context = {
        "filters": f,
        "theme": theme if theme in THEMES else "",
        "blocks": _blocks(WALL_FRAGMENTS, f, now),
        "poll_seconds": POLL_SECONDS,
        "board_url": reverse("board") + (f"?{f.as_query()}" if f.as_query() else ""),
    }
    return render(request, "board/wall.html", context)
