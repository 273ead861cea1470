"""Template helpers of the crisis board: a live block's wrapper, and platform names."""

from django import template

from monitoring.platforms import Platform

register = template.Library()


@register.inclusion_tag("board/partials/block.html")
def board_block(block: dict, poll_seconds: int) -> dict:
    """A fragment in its polled <section> (the id is the fragment's name: "#alerts" links)."""
    return {"block": block, "poll_seconds": poll_seconds}


@register.filter
def platform_label(key: str) -> str:
    """The platform's display name ("bluesky" -> "Bluesky"); an unknown key as stored."""
    try:
        return str(Platform(key).label)
    except ValueError:
        return key
