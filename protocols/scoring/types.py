"""Values that cross the scoring boundary: the inputs besides the text, and the Score.

Also the one place where the scoring enumerations get their translated labels (severity,
triage class, signal kinds, author flags) and where a signal's explanation is worded, so
"why this score" is rendered in the reader's language from (kind, parameters).
"""

import enum
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")
    ORDER = enum.nonmember(("low", "medium", "high", "critical"))


class TriageClass(models.TextChoices):
    """The triage decision of DOMAIN.md practice 7, plus question, praise and neutral."""

    # the company is at fault: own it, fix, apologise
    COMPANY_FAULT = "complaint_company_fault", _("Complaint: company at fault")
    # annoyed without reason: reason with them
    NO_REASON = "complaint_no_reason", _("Complaint without reason")
    TROLL = "troll_abuse", _("Troll or abuse")  # insults, hate, trolling: do not feed it
    QUESTION = "question", _("Question")
    PRAISE = "praise", _("Praise")
    NEUTRAL = "neutral", _("Neutral")
    ALL = enum.nonmember(
        (
            "complaint_company_fault",
            "complaint_no_reason",
            "troll_abuse",
            "question",
            "praise",
            "neutral",
        )
    )
    COMPLAINTS = enum.nonmember(("complaint_company_fault", "complaint_no_reason"))


class SignalKind(models.TextChoices):
    """What a line of "why this score" is about; also the names of the protocol's weights."""

    BASE = "base", _("Base score")
    NEGATIVE_SENTIMENT = "negative_sentiment", _("Negative sentiment")
    POSITIVE_SENTIMENT = "positive_sentiment", _("Positive sentiment")
    COMPLAINT = "complaint", _("Complaint")
    COMPANY_FAULT = "company_fault", _("Concrete service failure")
    ABUSE = "abuse", _("Insult or abuse")
    QUESTION = "question", _("Question")
    KEYWORD = "keyword", _("Keyword group")
    REACH = "reach", _("Reach")
    AUTHOR = "author", _("Flagged author")
    REPEAT_COMPLAINANT = "repeat_complainant", _("Repeat complainant")
    VELOCITY = "velocity", _("Spike")
    CAP = "cap", _("Cap")


class AuthorFlag(models.TextChoices):
    INFLUENCER = "influencer", _("Influencer")
    AMBASSADOR = "ambassador", _("Ambassador")
    KNOWN_TROLL = "known_troll", _("Known troll")
    CUSTOMER = "customer", _("Customer")


# The sentence of each signal, by kind and by which parameters it has. Stored rows keep the
# kind and the parameters; the sentence is worded when it is read, in the reader's language.
_SENTENCES = {
    "base": gettext_noop("base score"),
    "negative_sentiment": gettext_noop("negative sentiment (%(sentiment)s)"),
    "negative_sentiment+terms": gettext_noop("negative sentiment (%(sentiment)s): %(terms)s"),
    "positive_sentiment": gettext_noop("positive sentiment (+%(sentiment)s)"),
    "positive_sentiment+terms": gettext_noop("positive sentiment (+%(sentiment)s): %(terms)s"),
    "complaint": gettext_noop("complaint"),
    "complaint+terms": gettext_noop("complaint: %(terms)s"),
    "company_fault": gettext_noop("concrete service failure"),
    "company_fault+terms": gettext_noop("concrete service failure: %(terms)s"),
    "abuse": gettext_noop("insult or abuse (known troll)"),
    "abuse+terms": gettext_noop("insult or abuse: %(terms)s"),
    "abuse+terms+directed": gettext_noop("insult or abuse: %(terms)s (directed)"),
    "question": gettext_noop("question"),
    "question+terms": gettext_noop("question: %(terms)s"),
    "keyword": gettext_noop('keyword group %(group)s: "%(match)s"'),
    "reach": gettext_noop("reach: %(followers)s followers"),
    "author": gettext_noop("author flagged %(flag)s"),
    "velocity": gettext_noop("spike ×%(factor)s"),
    "velocity+topic": gettext_noop("spike ×%(factor)s on topic %(topic)s"),
    "cap": gettext_noop("capped at %(capped)s (total was %(total)s)"),
}
OVERALL_TOPIC = "__all__"  # the topic of every mention, shown as "all mentions"


def topic_label(topic: str) -> str:
    """A topic as a reader sees it: the overall topic is "all mentions"."""
    return gettext("all mentions") if topic == OVERALL_TOPIC else topic


def _quote(terms: list[str]) -> str:
    return ", ".join(f'"{term}"' for term in terms)


def _compact(count: int, translate: bool) -> str:
    if count >= 1_000_000:
        value, suffix = count / 1_000_000, "M"
    elif count >= 1_000:
        value, suffix = count / 1_000, "k"
    else:
        return str(count)
    text = number_format(round(value, 1), 1) if translate else f"{value:.1f}"
    return text.removesuffix(".0").removesuffix(",0") + suffix


def _decimal(value: float, places: int, translate: bool) -> str:
    return number_format(value, places) if translate else f"{value:.{places}f}"


def explain(kind: str, params: dict[str, Any], *, translate: bool = True) -> str:
    """The sentence of one signal: in the active language, or in English for the stored label."""
    kind = kind.split(":", 1)[0]
    words = gettext if translate else str
    values = dict(params)
    variant = kind
    if values.get("terms"):
        variant += "+terms"
        values["terms"] = _quote(values["terms"])
    if kind == "abuse" and values.get("directed") and values.get("terms"):
        variant += "+directed"
    if "sentiment" in values:
        values["sentiment"] = _decimal(
            abs(values["sentiment"]) if kind.startswith("pos") else values["sentiment"],
            2,
            translate,
        )
    if "followers" in values:
        values["followers"] = _compact(values["followers"], translate)
    if "factor" in values:
        values["factor"] = _decimal(values["factor"], 1, translate)
    if values.get("topic"):
        variant += "+topic"
        values["topic"] = topic_label(values["topic"]) if translate else values["topic"]
    if kind == "author" and translate and values.get("flag") in AuthorFlag.values:
        values["flag"] = AuthorFlag(values["flag"]).label
    if kind == "repeat_complainant":
        count = values.get("count", 0)
        if not translate:
            return f"repeat complainant: {count} previous complaints"
        return ngettext(
            "repeat complainant: %(count)s previous complaint",
            "repeat complainant: %(count)s previous complaints",
            count,
        ) % {"count": count}
    sentence = _SENTENCES.get(variant) or _SENTENCES.get(kind)
    if sentence is None:
        return str(SignalKind(kind).label) if kind in SignalKind.values else kind
    return words(sentence) % values


@dataclass(frozen=True, slots=True)
class AuthorContext:
    followers: int | None = None
    flags: frozenset[str] = frozenset()  # influencer, ambassador, known_troll, customer
    previous_complaints: int = 0  # complaints by this author before this mention


@dataclass(frozen=True, slots=True)
class ScoringContext:
    # The topic's current rate over its baseline, from the spike detector (1.0 = normal).
    velocity_factor: float = 1.0
    velocity_topic: str = ""


@dataclass(frozen=True, slots=True)
class Signal:
    """One line of "why this score": a named signal and what it added (may be negative)."""

    name: str  # stable machine name, e.g. "negative_sentiment", "keyword:authority"
    label: str  # the explanation in English, e.g. 'complaint: "hoja de reclamaciones"'
    contribution: float
    # What the explanation is made of, so it is worded again in the reader's language.
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Score:
    value: int  # 0-100; equals the sum of the signals' contributions (rounded)
    severity: str  # Severity value
    triage_class: str  # TriageClass value
    sentiment: float  # -1 (negative) .. 1 (positive)
    language: str  # "es", "en" or "" when unknown
    matched_groups: tuple[str, ...] = ()  # keys of keyword groups that matched
    signals: tuple[Signal, ...] = field(default_factory=tuple)
    is_question: bool = False
    is_abusive: bool = False
    is_complaint: bool = False
