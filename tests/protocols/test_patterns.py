"""Keyword patterns run on RE2: linear time, refused with their field named, Unicode word edges.

Issue 8, "What was found" 4: the keyword pattern `(a+)+$` was accepted and scoring "a"*32 + "!"
then held a worker for minutes. Pure tests (no database): the engine and the validation.
"""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.defaults import default_config
from protocols.scoring.engine import MAX_SCORED_CHARS, compile_protocol, score_mention
from protocols.scoring.patterns import compile_group, keyword_text, matched_words
from protocols.validation import validate_config

# Lone surrogates included: a pasted pattern or a platform's text may hold one.
ANY_CHARACTER = st.characters(exclude_categories=())
# Generous bounds (the benchmark prints the real figures): backtracking took minutes.
SECONDS = 2.0


def protocol_with(patterns: list[str], *, regex: bool = True):
    config = default_config()
    config["keyword_groups"] = [
        {"key": "watch", "label": "Watch", "patterns": patterns, "regex": regex, "boost": 10}
    ]
    return compile_protocol(config)


def matches(text: str, patterns: list[str], *, regex: bool = False) -> bool:
    result = score_mention(text, language="es", protocol=protocol_with(patterns, regex=regex))
    return result.matched_groups == ("watch",)


def errors_by_path(config) -> dict[str, str]:
    return {error.path: error.message for error in validate_config(config)}


# --- linear time ------------------------------------------------------------------------------


def test_nested_quantifier_pattern_scores_ten_thousand_characters_quickly():
    protocol = protocol_with(["(a+)+$"])
    started = time.perf_counter()
    score_mention("a" * 10_000 + "!", language="en", protocol=protocol)
    assert time.perf_counter() - started < SECONDS


def test_nested_quantifier_pattern_matches_a_million_characters_in_linear_time():
    matcher = compile_group("watch", ["(a+)+$"], regex=True)
    started = time.perf_counter()
    assert matched_words(matcher, keyword_text("a" * 1_000_000 + "!")) is None
    assert time.perf_counter() - started < SECONDS


def test_a_protocol_holding_a_nested_quantifier_is_accepted_because_it_runs_in_linear_time():
    config = default_config()
    config["keyword_groups"][1]["patterns"][2] = "(a+)+$"
    assert "keyword_groups[1].patterns[2]" not in errors_by_path(config)


# --- refused with the field named -------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    ["(?<!no )demanda", "(?<=mi )abogado", "demanda(?!do)", "(de)manda\\1", "deman(?>da)", "a++"],
)
def test_syntax_re2_cannot_run_is_refused_with_its_field_named(pattern):
    config = default_config()
    config["keyword_groups"][1]["patterns"][2] = pattern
    message = errors_by_path(config)["keyword_groups[1].patterns[2]"]
    assert "invalid regular expression" in message
    assert "linear time" in message


@settings(max_examples=200, deadline=None)
@given(pattern=st.text(ANY_CHARACTER, max_size=40), text=st.text(ANY_CHARACTER, max_size=200))
def test_any_pattern_validation_accepts_also_runs_on_any_text(pattern, text):
    config = default_config()
    config["keyword_groups"][1]["patterns"] = [pattern]
    refused = any(
        error.path.startswith("keyword_groups[1].patterns") for error in validate_config(config)
    )
    if not refused:
        matcher = compile_group("watch", [pattern], regex=True)
        assert matcher is not None
        matched_words(matcher, keyword_text(text))


def test_a_pattern_with_a_lone_surrogate_is_refused_on_its_field():
    config = default_config()
    config["keyword_groups"][1]["patterns"][2] = "demanda\ud800"
    assert "keyword_groups[1].patterns[2]" in errors_by_path(config)


def test_a_group_too_large_for_re2_is_refused_on_its_patterns():
    config = default_config()
    config["keyword_groups"][0]["patterns"] = [
        f"palabra{number}" + "x" * 10_000 for number in range(20)
    ]
    errors = errors_by_path(config)
    assert "cannot run together" in errors["keyword_groups[0].patterns"]


def test_a_stored_pattern_re2_refuses_leaves_the_groups_other_patterns_working():
    protocol = protocol_with(["(?<!no )demanda", "abogado"])
    assert score_mention("llamo a mi abogado", language="es", protocol=protocol).matched_groups
    assert not score_mention("os demanda", language="es", protocol=protocol).matched_groups


# --- whole words, with ñ, á, ü, ø as letters ----------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text"),
    [("niñ", "el niño llora"), ("mu", "una muñeca rota"), ("k", "vil købe"), ("da", "dañado")],
)
def test_a_keyword_does_not_match_inside_a_word_with_non_ascii_letters(keyword, text):
    assert not matches(text, [keyword])


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("reclamación", "quiero una reclamación ya"),
        ("camión", "el camión, otra vez"),
        ("camión", "camión"),
        ("übel", "ÜBEL!"),
        ("niño", "¿y el niño?"),
        ("garçon", "le garçon"),
    ],
)
def test_a_keyword_matches_as_a_whole_word_next_to_punctuation_or_the_text_edges(keyword, text):
    assert matches(text, [keyword])


def test_a_regular_expression_keyword_also_keeps_non_ascii_letters_inside_words():
    assert not matches("los niños", ["niñ(o|a)"], regex=True)
    assert matches("la niña", ["niñ(o|a)"], regex=True)


def test_escapes_in_a_pattern_keep_their_case_when_it_is_folded():
    # \W (not a word character) must not become \w when the pattern is lower-cased.
    assert matches("FACTURA -- DUPLICADA", [r"factura\W+duplicada"], regex=True)
    assert not matches("facturaxduplicada", [r"factura\W+duplicada"], regex=True)


def test_the_explanation_quotes_the_matched_words_without_their_edges():
    result = score_mention(
        "Pido la hoja de reclamaciones, ya.",
        language="es",
        protocol=protocol_with(["hoja de reclamaciones"], regex=False),
    )
    keyword = next(signal for signal in result.signals if signal.name == "keyword:watch")
    assert keyword.params["match"] == "hoja de reclamaciones"


# --- bounded work per mention -----------------------------------------------------------------


def test_a_million_character_mention_scores_quickly():
    protocol = compile_protocol(default_config())
    text = "el servicio no funciona y quiero la hoja de reclamaciones " * 17_000
    started = time.perf_counter()
    score_mention(text[:1_000_000], protocol=protocol)
    assert time.perf_counter() - started < SECONDS


def test_words_past_the_scoring_prefix_are_not_read():
    text = "hola " * (MAX_SCORED_CHARS // 5) + "abogado"
    assert not matches(text, ["abogado"])


def test_a_lone_surrogate_in_a_mention_does_not_stop_its_keywords_matching():
    assert matches("mi abogado \ud800 dice", ["abogado"])
