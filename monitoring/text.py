"""Turning platform HTML into plain text, safely (nh3), and detecting language (lingua)."""

import html
import re
from functools import lru_cache

import nh3

# Work per item is bounded (anyone can send a 900 KB single word): HTML beyond this prefix is
# not read (the validation boundary keeps 100,000 characters of text anyway), and language
# is detected from the first characters only, which say it as well as the whole.
MAX_HTML_CHARS = 200_000
LANGUAGE_PREFIX_CHARS = 2_000

_BLOCK_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/blockquote)\s*/?\s*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(value: str | None) -> str:
    """Strip every tag (and script/style content) and decode entities; keep line breaks."""
    if not value:
        return ""
    with_breaks = _BLOCK_BREAKS.sub("\n", value[:MAX_HTML_CHARS])
    stripped = nh3.clean(with_breaks, tags=set(), attributes={})
    text = html.unescape(stripped)
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return "\n".join(line.strip() for line in text.strip().splitlines())


# The languages a brand's mentions are expected in; others come back as "" (unknown).
DETECTABLE_LANGUAGES = ("es", "en", "pt", "fr", "it", "de", "ca")


@lru_cache(maxsize=1)
def _detector():
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, code.upper()) for code in DETECTABLE_LANGUAGES]
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        .with_minimum_relative_distance(0.1)
        .build()
    )


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "" when too short or unclear."""
    if len(text.strip()) < 8:
        return ""
    language = _detector().detect_language_of(text[:LANGUAGE_PREFIX_CHARS])
    return language.iso_code_639_1.name.lower() if language is not None else ""


def detect_languages(texts: list[str]) -> list[str]:
    """Batch form (parallel in lingua's native code) for ingest of whole pages."""
    detector = _detector()
    results = detector.detect_languages_in_parallel_of(
        [text[:LANGUAGE_PREFIX_CHARS] for text in texts]
    )
    return [
        language.iso_code_639_1.name.lower()
        if language is not None and len(text.strip()) >= 8
        else ""
        for text, language in zip(texts, results, strict=True)
    ]
