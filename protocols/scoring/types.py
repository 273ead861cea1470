"""Values that cross the scoring boundary: the inputs besides the text, and the Score."""

from dataclasses import dataclass, field


class Severity:
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    ORDER = ("low", "medium", "high", "critical")


class TriageClass:
    """The triage decision of DOMAIN.md practice 7, plus question, praise and neutral."""

    COMPANY_FAULT = "complaint_company_fault"  # the company is at fault: own it, fix, apologise
    NO_REASON = "complaint_no_reason"  # annoyed without reason: reason with them
    TROLL = "troll_abuse"  # insults, hate, trolling: do not feed it
    QUESTION = "question"
    PRAISE = "praise"
    NEUTRAL = "neutral"
    ALL = (COMPANY_FAULT, NO_REASON, TROLL, QUESTION, PRAISE, NEUTRAL)
    COMPLAINTS = (COMPANY_FAULT, NO_REASON)


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
    label: str  # short human explanation, e.g. 'matched "hoja de reclamaciones"'
    contribution: float


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
