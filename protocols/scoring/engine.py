"""The scoring engine: a protocol compiled once, and one pure function from a mention to a Score.

Live ingest, rescoring and protocol backtests all call `score_mention` with a
`CompiledProtocol` from `compile_protocol`. Every point of the score is one explained Signal;
contributions are multiples of 0.5 (so they add up exactly, with no float drift) and their
sum is the value, with an explicit "cap" signal when the total leaves 0..100.
"""

import math
import re
from dataclasses import dataclass, replace
from types import MappingProxyType

from protocols.scoring.defaults import DEFAULT_WEIGHTS
from protocols.scoring.lexicon import Lexicon, compile_lexicon
from protocols.scoring.normalise import normalise
from protocols.scoring.patterns import Matcher, compile_group, keyword_text, matched_words
from protocols.scoring.signals import Analysis, analyse, detect_language
from protocols.scoring.types import (
    AuthorContext,
    Score,
    ScoringContext,
    Severity,
    Signal,
    TriageClass,
    explain,
)

LANGUAGES = ("es", "en")
_KEYWORD_CLEAN = re.compile(r"https?://\S+|[_#@]")
# The scorer reads at most this many characters of a mention. Posts on the platforms we watch
# are far shorter (Bluesky 300, Mastodon 500, a YouTube comment 10,000 at most, a long Reddit
# post rarely past a few thousand), what makes a mention urgent is said near its start, and
# scoring time grows with the text: the bound keeps one huge item from holding a worker.
MAX_SCORED_CHARS = 5_000


@dataclass(frozen=True, slots=True)
class KeywordGroup:
    key: str
    label: str
    pattern: Matcher | None  # None: no pattern RE2 can run, the group matches nothing
    boost: float
    escalation_contact: str


@dataclass(frozen=True, slots=True)
class CompiledProtocol:
    weights: MappingProxyType
    lexicons: MappingProxyType  # "es", "en", "" (both) -> Lexicon
    keyword_groups: tuple[KeywordGroup, ...]
    reach_tiers: tuple[tuple[int, float], ...]  # (min_followers, boost), highest first
    author_flags: MappingProxyType  # flag -> boost
    repeat_min_previous: int
    repeat_boost: float
    spike_factor: float
    velocity_boost: float
    severity_thresholds: tuple[tuple[str, float], ...]  # highest severity first

    def weight(self, key: str) -> float:
        return self.weights.get(key, DEFAULT_WEIGHTS.get(key, 0.0))


def _keyword_pattern(group: dict) -> Matcher | None:
    patterns = [str(pattern) for pattern in group.get("patterns", ())]
    return compile_group(str(group.get("key")), patterns, regex=bool(group.get("regex")))


def compile_protocol(config: dict) -> CompiledProtocol:
    """Compile the protocol document (see `protocols.defaults.default_config`) once."""
    weights = {**DEFAULT_WEIGHTS, **(config.get("weights") or {})}
    lexicon_config = config.get("lexicons") or {}
    shared = lexicon_config.get("any") or {}
    lexicons = {
        language: compile_lexicon(language, shared, lexicon_config.get(language) or {})
        for language in LANGUAGES
    }
    lexicons[""] = compile_lexicon(
        "", shared, *(lexicon_config.get(language) or {} for language in LANGUAGES)
    )
    groups = tuple(
        KeywordGroup(
            key=str(group["key"]),
            label=str(group.get("label") or group["key"]),
            pattern=_keyword_pattern(group),
            boost=float(group.get("boost", 0)),
            escalation_contact=str(group.get("escalation_contact") or ""),
        )
        for group in config.get("keyword_groups") or ()
    )
    tiers = tuple(
        sorted(
            (
                (int(tier.get("min_followers", 0)), float(tier.get("boost", 0)))
                for tier in config.get("reach_tiers") or ()
            ),
            reverse=True,
        )
    )
    repeat = config.get("repeat_complainant") or {}
    velocity = config.get("velocity") or {}
    thresholds = config.get("severity_thresholds") or {}
    severity_thresholds = tuple(
        (severity, float(thresholds[severity]))
        for severity in reversed(Severity.ORDER)
        if severity in thresholds
    )
    return CompiledProtocol(
        weights=MappingProxyType(weights),
        lexicons=MappingProxyType(lexicons),
        keyword_groups=groups,
        reach_tiers=tiers,
        author_flags=MappingProxyType(
            {str(flag): float(boost) for flag, boost in (config.get("author_flags") or {}).items()}
        ),
        repeat_min_previous=int(repeat.get("min_previous", 0) or 0),
        repeat_boost=float(repeat.get("boost", 0)),
        spike_factor=float(velocity.get("spike_factor", 0) or 0),
        velocity_boost=float(velocity.get("boost", 0)),
        severity_thresholds=severity_thresholds,
    )


def severity_for(value: float, protocol: CompiledProtocol) -> str:
    for severity, minimum in protocol.severity_thresholds:
        if value >= minimum:
            return severity
    return Severity.LOW


def _terms(terms: list[str], limit: int = 3) -> list[str]:
    """The first few distinct terms that explain a signal."""
    return list(dict.fromkeys(terms))[:limit]


def _signal(name: str, contribution: float, **params) -> Signal:
    """A signal with its parameters; its English label is worded from them (see `explain`)."""
    return Signal(name, explain(name, params, translate=False), contribution, params)


def _half(value: float) -> float:
    """Rounded to a multiple of 0.5: one decimal, and sums without float error."""
    return math.floor(value * 2 + 0.5) / 2


def _classify(
    analysis: Analysis, is_question: bool, author: AuthorContext, protocol: CompiledProtocol
) -> tuple[str, bool, bool]:
    """(triage class, is_abusive, is_complaint)."""
    sentiment = analysis.sentiment
    is_abusive = analysis.insult >= protocol.weight("abuse_min_strength")
    concrete = (
        analysis.strong_failure and sentiment <= protocol.weight("complaint_max_sentiment")
    ) or (analysis.failure > 0 and sentiment <= protocol.weight("failure_max_sentiment"))
    annoyed = sentiment <= protocol.weight("annoyed_max_sentiment")
    if concrete:
        triage = TriageClass.COMPANY_FAULT
    elif is_abusive or ("known_troll" in author.flags and sentiment < 0):
        triage = TriageClass.TROLL
        is_abusive = True
    elif annoyed and (analysis.service or analysis.complaint_markers):
        triage = TriageClass.COMPANY_FAULT if analysis.failure else TriageClass.NO_REASON
    elif annoyed or (analysis.complaint_markers and sentiment < 0):
        triage = TriageClass.NO_REASON
    elif is_question:
        triage = TriageClass.QUESTION
    elif sentiment >= protocol.weight("praise_min_sentiment"):
        triage = TriageClass.PRAISE
    else:
        triage = TriageClass.NEUTRAL
    return triage, is_abusive, triage in TriageClass.COMPLAINTS


def score_mention(
    text: str,
    *,
    language: str = "",
    author: AuthorContext = AuthorContext(),  # noqa: B008 - frozen, shared safely
    context: ScoringContext = ScoringContext(),  # noqa: B008 - frozen, shared safely
    protocol: CompiledProtocol,
) -> Score:
    """Score one mention with a compiled protocol. Pure and deterministic."""
    text = (text or "")[:MAX_SCORED_CHARS]
    normalised = normalise(text)
    lexicons = protocol.lexicons
    if not language:
        language = detect_language(normalised, lexicons["es"].stopwords, lexicons["en"].stopwords)
    lexicon: Lexicon = lexicons.get(language) or lexicons[""]
    analysis = analyse(normalised, lexicon)
    is_question = analysis.question or normalised.question_marks > 0
    triage, is_abusive, is_complaint = _classify(analysis, is_question, author, protocol)
    sentiment = round(analysis.sentiment, 3)
    weight = protocol.weight

    signals: list[Signal] = [_signal("base", _half(weight("base")))]
    if sentiment < 0:
        signals.append(
            _signal(
                "negative_sentiment",
                _half(weight("negative_sentiment") * -sentiment),
                sentiment=sentiment,
                terms=_terms(analysis.negative_terms + analysis.insult_terms),
            )
        )
    elif sentiment > 0:
        signals.append(
            _signal(
                "positive_sentiment",
                _half(weight("positive_sentiment") * sentiment),
                sentiment=sentiment,
                terms=_terms(analysis.positive_terms),
            )
        )
    if is_complaint:
        signals.append(
            _signal(
                "complaint",
                _half(weight("complaint")),
                terms=_terms(analysis.failure_terms or analysis.complaint_markers),
            )
        )
        if triage == TriageClass.COMPANY_FAULT:
            signals.append(
                _signal(
                    "company_fault",
                    _half(weight("company_fault")),
                    terms=_terms(analysis.failure_terms),
                )
            )
    if is_abusive:
        signals.append(
            _signal(
                "abuse",
                _half(weight("abuse")),
                terms=_terms(analysis.insult_terms),
                directed=analysis.directed,
            )
        )
    if is_question:
        signals.append(
            _signal("question", _half(weight("question")), terms=_terms(analysis.question_terms))
        )

    matched_groups: list[str] = []
    searched = None
    for group in protocol.keyword_groups:
        if group.pattern is None:
            continue
        if searched is None:
            searched = keyword_text(_KEYWORD_CLEAN.sub(" ", text))
        words = matched_words(group.pattern, searched)
        if words is not None:
            matched_groups.append(group.key)
            signals.append(
                _signal(
                    f"keyword:{group.key}",
                    _half(group.boost),
                    group=group.key,
                    match=words,
                )
            )

    if author.followers is not None:
        for minimum, boost in protocol.reach_tiers:
            if author.followers >= minimum:
                if boost:
                    signals.append(_signal("reach", _half(boost), followers=author.followers))
                break
    for flag in sorted(author.flags):
        boost = protocol.author_flags.get(flag)
        if boost:
            signals.append(_signal(f"author:{flag}", _half(boost), flag=flag))
    if protocol.repeat_boost and author.previous_complaints >= max(protocol.repeat_min_previous, 1):
        signals.append(
            _signal(
                "repeat_complainant",
                _half(protocol.repeat_boost),
                count=author.previous_complaints,
            )
        )
    if (
        protocol.velocity_boost
        and protocol.spike_factor
        and context.velocity_factor >= protocol.spike_factor
    ):
        signals.append(
            _signal(
                "velocity",
                _half(protocol.velocity_boost),
                factor=round(context.velocity_factor, 1),
                topic=context.velocity_topic,
            )
        )

    total = sum(signal.contribution for signal in signals)  # exact: multiples of 0.5
    if total != math.floor(total):
        # Make the sum a whole number by moving the half point into the sentiment line.
        for position, signal in enumerate(signals):
            if signal.name in ("negative_sentiment", "positive_sentiment"):
                signals[position] = replace(signal, contribution=signal.contribution + 0.5)
                break
        else:
            signals[0] = replace(signals[0], contribution=signals[0].contribution + 0.5)
        total += 0.5
    value = int(total)
    if value > 100 or value < 0:
        capped = min(max(value, 0), 100)
        signals.append(_signal("cap", float(capped - value), capped=capped, total=value))
        value = capped
    return Score(
        value=value,
        severity=severity_for(value, protocol),
        triage_class=triage,
        sentiment=sentiment,
        language=language,
        matched_groups=tuple(matched_groups),
        signals=tuple(signals),
        is_question=is_question,
        is_abusive=is_abusive,
        is_complaint=is_complaint,
    )
