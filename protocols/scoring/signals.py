"""Reading a normalised mention with a lexicon: sentiment, insults, failures, questions.

One pass over the tokens (VADER-like): sentiment words scaled by intensifiers/diminishers,
flipped by a negation within the three words before them, weighted up after "but"/"pero",
plus emphasis from capitals, elongation and exclamation marks.
"""

import math
from dataclasses import dataclass

from protocols.scoring.lexicon import Entry, Lexicon
from protocols.scoring.normalise import Normalised, collapse

NEGATION_SCALE = -0.6  # "no está mal" is mildly positive, not as positive as "bien"
NEGATION_SCOPE = 3
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5
EMPHASIS = 0.25  # capitals or elongation
EXCLAMATION_STEP = 0.25
EXCLAMATION_MAX = 3
STRONG_FAILURE = 3.0
# An insult said to someone in the same sentence ("no seas ...", "you ..."), or in a mention
# that names a targeted group ("... inmigrantes"), is abuse even when the word alone is only
# profanity.
DIRECTED_INSULT = 1.0
TARGETED_INSULT = 1.0
SENTIMENT_ALPHA = 15.0  # squashing of the raw sum into -1..1
_PUNCTUATION = frozenset("!?¿¡.,;:")
_CLAUSE_END = frozenset("?.!;")


@dataclass(slots=True)
class Analysis:
    sentiment: float
    positive_terms: list[str]
    negative_terms: list[str]
    insult: float
    insult_terms: list[str]
    directed: bool  # addresses someone ("you", "eres")
    targeted: bool  # names a group that hate speech targets ("inmigrantes", "women")
    failure: float
    strong_failure: bool  # a failure of strength 3+ (or a negated 'works')
    failure_terms: list[str]
    service: bool
    complaint_markers: list[str]
    question: bool
    question_terms: list[str]


def _lookup(lexicon: Lexicon, token: str, elongated: frozenset[str]) -> Entry | None:
    entry = lexicon.words.get(token)
    if entry is None and token in elongated:
        entry = lexicon.words.get(collapse(token))
    return entry


def analyse(normalised: Normalised, lexicon: Lexicon) -> Analysis:
    tokens = normalised.tokens
    elongated = normalised.elongated
    shouted = normalised.shouted
    words = lexicon.words
    phrases = lexicon.phrases
    total = 0.0
    positive_terms: list[str] = []
    negative_terms: list[str] = []
    insult = 0.0
    insult_terms: list[str] = []
    directed = False
    targeted = False
    clause_person = False  # the current sentence addresses someone
    clause_insult = False  # the current sentence holds an insult
    directed_insult = False
    failure = 0.0
    strong_failure = False
    failure_terms: list[str] = []
    service = False
    complaint_markers: list[str] = []
    question_terms: list[str] = []
    clause_question = False  # the current clause opened with a question word
    question = normalised.inverted_question

    negation_left = 0
    pending_negator = 0.0  # polarity of a negator that has not negated anything yet
    booster = 0.0
    weight = 1.0
    clause_start = True
    count = len(tokens)
    index = 0
    while index < count:
        token = tokens[index]
        if token[0] in _PUNCTUATION:
            if "?" in token and clause_question:
                question = True
            if pending_negator:
                total += pending_negator
                pending_negator = 0.0
            negation_left = 0
            booster = 0.0
            if _CLAUSE_END.intersection(token):
                clause_question = False
                clause_person = clause_insult = False
            clause_start = True
            index += 1
            continue
        entry = None
        span = 1
        candidates = phrases.get(token)
        if candidates is not None:
            for phrase, phrase_entry in candidates:
                size = len(phrase)
                if tuple(tokens[index : index + size]) == phrase:
                    entry = phrase_entry
                    span = size
                    break
        if entry is None:
            entry = words.get(token)
            if entry is None and token in elongated:
                entry = words.get(collapse(token))
        if entry is None:
            index += 1
            clause_start = False
            booster = 0.0
            if negation_left:
                negation_left -= 1
                if not negation_left and pending_negator:
                    total += pending_negator
                    pending_negator = 0.0
            continue

        negated = negation_left > 0
        if entry.question and clause_start:
            clause_question = True
            question_terms.append(entry.text)
            if span > 1 and index == 0:
                question = True  # "alguien sabe…", "does anyone…" need no question mark
        if entry.request:
            question = True
            question_terms.append(entry.text)
        if entry.second_person:
            directed = clause_person = True
            if clause_insult:
                directed_insult = True
        if entry.target:
            targeted = True
        if entry.service:
            service = True
        if entry.complaint:
            complaint_markers.append(entry.text)
        if entry.insult:
            insult += entry.insult
            insult_terms.append(entry.text)
            clause_insult = True
            if clause_person:
                directed_insult = True
        if entry.failure:
            failure += entry.failure
            strong_failure = strong_failure or entry.failure >= STRONG_FAILURE
            failure_terms.append(entry.text)
        elif entry.negated_failure and negated:
            failure += STRONG_FAILURE
            strong_failure = True
            failure_terms.append("not " + entry.text)
        if entry.contrast:
            total *= CONTRAST_BEFORE
            weight = CONTRAST_AFTER
        valence = entry.valence
        if valence and entry.booster and index + span < count:
            # A sentiment word that is also an intensifier ("bien feo", "pretty bad",
            # "harto bueno") only intensifies when a sentiment word follows.
            following = words.get(tokens[index + span])
            if following is not None and following.valence and not following.negator:
                valence = 0.0
        if valence and not entry.negator:
            if booster:
                valence *= 1.0 + booster
            if token in shouted or token in elongated:
                valence *= 1.0 + EMPHASIS
            if negated and token[0] < "\u2000" and not token.startswith("emo"):
                valence *= NEGATION_SCALE  # emoji and laughter are never negated
                pending_negator = 0.0
            valence *= weight
            total += valence
            term = "not " + entry.text if negated else entry.text
            (positive_terms if valence > 0 else negative_terms).append(term)
        clause_start = False
        if entry.negator:
            negation_left = NEGATION_SCOPE
            if valence and not pending_negator:
                pending_negator = valence * weight
        elif negation_left:
            negation_left = max(negation_left - span, 0)
            if not negation_left and pending_negator:
                total += pending_negator
                pending_negator = 0.0
        booster = entry.booster if entry.booster and not valence else 0.0
        index += span
    if pending_negator:
        total += pending_negator
    if insult:
        if directed_insult:
            insult += DIRECTED_INSULT
        if targeted:
            insult += TARGETED_INSULT
    if total and normalised.exclamations:
        bump = min(normalised.exclamations, EXCLAMATION_MAX) * EXCLAMATION_STEP
        total += bump if total > 0 else -bump
    sentiment = total / math.sqrt(total * total + SENTIMENT_ALPHA) if total else 0.0
    return Analysis(
        sentiment=sentiment,
        positive_terms=positive_terms,
        negative_terms=negative_terms,
        insult=insult,
        insult_terms=insult_terms,
        directed=directed,
        targeted=targeted,
        failure=failure,
        strong_failure=strong_failure,
        failure_terms=failure_terms,
        service=service,
        complaint_markers=complaint_markers,
        question=question,
        question_terms=question_terms,
    )


def detect_language(
    normalised: Normalised, spanish: frozenset[str], english: frozenset[str]
) -> str:
    """ "es", "en" or "" from function-word overlap: cheap and good enough for routing."""
    es = en = 0
    for token in normalised.tokens:
        if token in spanish:
            es += 1
        if token in english:
            en += 1
    if es == en:
        if normalised.inverted_question or "ñ" in "".join(normalised.tokens):
            return "es"
        return ""
    return "es" if es > en else "en"
