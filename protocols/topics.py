"""What a mention is about: the one definition of its topics (stored, counted, filtered by).

A topic is a matched keyword group key, a hashtag (lower-case, without "#", at most
`MAX_HASHTAGS` per mention) or the overall volume (`OVERALL_TOPIC`, every mention's).
"""

import re
from collections.abc import Iterable

from protocols.scoring.types import OVERALL_TOPIC

MAX_HASHTAGS = 5
MAX_TOPIC_LENGTH = 200  # protocols.models.MentionTopic.topic
_HASHTAG = re.compile(r"#(\w{2,60})")


def hashtags(text: str) -> list[str]:
    """The mention's first distinct hashtags, lower-cased, in the order they appear."""
    found = dict.fromkeys(tag.lower() for tag in _HASHTAG.findall(text))
    return list(found)[:MAX_HASHTAGS]


def topics_for(text: str, matched_groups: Iterable[str]) -> list[str]:
    """The overall topic, then the matched keyword groups, then the hashtags; each once.

    Before scoring (when the velocity is read) the groups are not known yet: pass `()`.
    """
    topics = dict.fromkeys([OVERALL_TOPIC, *matched_groups, *hashtags(text)])
    return [topic[:MAX_TOPIC_LENGTH] for topic in topics]
