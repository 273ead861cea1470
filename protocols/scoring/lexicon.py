"""Compiling a protocol's lexicons into one lookup table per language.

Each word or phrase maps to one `Entry` holding every role it plays (a word can be both an
insult and an intensifier), so scoring does one dictionary lookup per token.
"""

from dataclasses import dataclass, replace
from types import MappingProxyType

from protocols.scoring.normalise import phrase_tokens


@dataclass(frozen=True, slots=True)
class Entry:
    text: str = ""  # the entry as the lexicon writes it, for explanations
    valence: float = 0.0  # sentiment strength, signed
    negator: bool = False
    booster: float = 0.0  # > 0 intensifies the next sentiment word, < 0 weakens it
    contrast: bool = False
    insult: float = 0.0
    failure: float = 0.0
    negated_failure: bool = False
    service: bool = False
    complaint: bool = False
    question: bool = False
    request: bool = False
    second_person: bool = False
    target: bool = False  # names a group that hate speech targets ("inmigrantes", "women")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """One language's table: single words, and phrases indexed by their first word."""

    language: str
    words: MappingProxyType  # token -> Entry
    phrases: MappingProxyType  # first token -> tuple of (tokens, Entry), longest first
    stopwords: frozenset[str]


def _as_strengths(value) -> dict[str, float]:
    if isinstance(value, dict):
        return {str(key): float(strength) for key, strength in value.items()}
    return {str(key): 1.0 for key in value or ()}


def _sections(section: dict) -> list[tuple[str, float, str]]:
    """(phrase, number, field) for every entry of a lexicon section, in override order."""
    rows: list[tuple[str, float, str]] = []
    # Insults first so that an explicit sentiment entry overrides the insult's polarity.
    for phrase, strength in _as_strengths(section.get("insults")).items():
        rows.append((phrase, strength, "insult"))
        rows.append((phrase, -abs(strength), "derived_valence"))
    for phrase, strength in _as_strengths(section.get("failures")).items():
        rows.append((phrase, strength, "failure"))
        # Weaker failures ("factura", "still") are half topic, half mood.
        rows.append((phrase, -2.0 if abs(strength) >= 3 else -1.0, "derived_valence"))
    for phrase in _as_strengths(section.get("complaint_markers")):
        rows.append((phrase, -1.0, "derived_valence"))
    for phrase, strength in _as_strengths(section.get("positive")).items():
        rows.append((phrase, abs(strength), "valence"))
    for phrase, strength in _as_strengths(section.get("negative")).items():
        rows.append((phrase, -abs(strength), "valence"))
    for phrase, strength in _as_strengths(section.get("intensifiers")).items():
        rows.append((phrase, abs(strength), "booster"))
    for phrase, strength in _as_strengths(section.get("diminishers")).items():
        rows.append((phrase, -min(abs(strength), 0.95), "booster"))
    flags = {
        "negations": "negator",
        "contrast": "contrast",
        "negated_failures": "negated_failure",
        "service_terms": "service",
        "complaint_markers": "complaint",
        "question_starters": "question",
        "requests": "request",
        "second_person": "second_person",
        "targets": "target",
    }
    for key, field_name in flags.items():
        for phrase in _as_strengths(section.get(key)):
            rows.append((phrase, 1.0, field_name))
    return rows


def compile_lexicon(language: str, *sections: dict) -> Lexicon:
    """Merge lexicon sections (later ones win) into one lookup table."""
    entries: dict[tuple[str, ...], Entry] = {}
    valence_set: dict[tuple[str, ...], str] = {}
    stopwords: set[str] = set()
    for section in sections:
        for phrase, number, field_name in _sections(section or {}):
            tokens = phrase_tokens(phrase)
            if not tokens or not tokens[0]:
                continue
            entry = entries.get(tokens) or Entry(text=phrase)
            if field_name == "derived_valence":
                # Derived polarity never overrides one written in positive/negative.
                if valence_set.get(tokens) == "valence":
                    continue
                if valence_set.get(tokens) and abs(entry.valence) >= abs(number):
                    continue
                entry = replace(entry, valence=number)
                valence_set[tokens] = field_name
            elif field_name == "valence":
                entry = replace(entry, valence=number)
                valence_set[tokens] = "valence"
            elif field_name in ("insult", "failure", "booster"):
                entry = replace(entry, **{field_name: number})
            else:
                entry = replace(entry, **{field_name: True})
            entries[tokens] = entry
        stopwords.update(
            token for word in section.get("stopwords", ()) for token in phrase_tokens(word)
        )
    words: dict[str, Entry] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
    for tokens, entry in entries.items():
        if len(tokens) == 1:
            words[tokens[0]] = entry
        else:
            phrases.setdefault(tokens[0], []).append((tokens, entry))
    frozen_phrases = {
        first: tuple(sorted(candidates, key=lambda item: -len(item[0])))
        for first, candidates in phrases.items()
    }
    return Lexicon(
        language=language,
        words=MappingProxyType(words),
        phrases=MappingProxyType(frozen_phrases),
        stopwords=frozenset(stopwords),
    )
