"""Keyword patterns a supervisor writes, compiled with RE2 so that matching is linear in the text.

Python's `re` backtracks: a pattern such as `(a+)+$` takes exponential time on "aaa…!" and
would hold a worker for minutes. RE2 never backtracks, and the google-re2 wrapper raises
`re2.error` on syntax it does not support (look-around, back-references, possessive or atomic
groups) instead of falling back to `re`: validation reports that error on the field, and the
engine never compiles a pattern with anything else.
"""

import logging
import re
from collections.abc import Iterable

import re2

from protocols.scoring.normalise import fold

logger = logging.getLogger(__name__)

# Memory budget of one compiled keyword group (program and match cache): thousands of literal
# words fit, and a group that needs more is refused instead of growing the worker.
PATTERN_MAX_MEMORY = 2 << 20
# Letters, combining marks, digits and _ make up a word (as Python's \w does for text). RE2 has
# no look-around and its \b is ASCII-only, so word edges are matched as characters, which keeps
# ñ, á, ü and ç inside a word; the words themselves are group 1.
_WORD_CHARACTER = r"\p{L}\p{M}\p{N}_"
_WORD_START = rf"(?:^|[^{_WORD_CHARACTER}])"
_WORD_END = rf"(?:[^{_WORD_CHARACTER}]|$)"
# An escape in a user's pattern keeps its case (\S is not \s, \p{Lu} not \p{lu}); the rest is
# folded like the text it runs on.
_PATTERN_PART = re.compile(r"\\[pP]\{[^}]*\}|\\.|[^\\]+|\\", re.DOTALL)

Matcher = re2._Regexp


def _options() -> re2.Options:
    """Case-insensitive, UTF-8, bounded memory; errors go to the pattern's author, not stderr."""
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = PATTERN_MAX_MEMORY
    options.log_errors = False
    return options


def _fold_pattern(pattern: str) -> str:
    return "".join(
        part if part.startswith("\\") else fold(part) for part in _PATTERN_PART.findall(pattern)
    )


def _body(pattern: str, *, regex: bool) -> str:
    if regex:
        return f"(?:{_fold_pattern(pattern)})"
    return re2.escape(fold(pattern).strip())


def _compile(patterns: Iterable[str], *, regex: bool) -> Matcher:
    bodies = "|".join(_body(pattern, regex=regex) for pattern in patterns)
    expression = f"{_WORD_START}({bodies}){_WORD_END}"
    try:
        expression.encode("utf-8")
    except UnicodeEncodeError:
        # RE2 reads UTF-8: refused like any other pattern it cannot run, not an exception.
        raise re2.error("a character that is not valid text (a lone surrogate)") from None
    return re2.compile(expression, _options())


def _reason(error: re2.error) -> str:
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason)


def pattern_error(pattern: str, *, regex: bool) -> str | None:
    """RE2's reason for refusing one pattern (in its own words), or None when it runs."""
    try:
        _compile([pattern], regex=regex)
    except re2.error as error:
        return _reason(error)
    return None


def group_error(patterns: list[str], *, regex: bool) -> str | None:
    """RE2's reason for refusing a group's patterns together (e.g. too large), or None."""
    try:
        _compile(patterns, regex=regex)
    except re2.error as error:
        return _reason(error)
    return None


def compile_group(key: str, patterns: list[str], *, regex: bool) -> Matcher | None:
    """One matcher for a keyword group's patterns as whole words; None if none can run."""
    patterns = [pattern for pattern in patterns if pattern.strip()]
    if not patterns:
        return None
    try:
        return _compile(patterns, regex=regex)
    except re2.error:
        pass
    # A version saved before patterns ran on RE2 may hold one that RE2 refuses (a look-around):
    # the group scores with its other patterns rather than scoring stopping for everyone.
    usable = [pattern for pattern in patterns if pattern_error(pattern, regex=regex) is None]
    logger.warning(
        "keyword group %s: %d pattern(s) RE2 cannot run were skipped",
        key,
        len(patterns) - len(usable),
    )
    if not usable:
        return None
    try:
        return _compile(usable, regex=regex)
    except re2.error:
        logger.warning("keyword group %s: its patterns are too large together", key)
        return None


def keyword_text(text: str) -> bytes:
    """Folded text as RE2 reads it (UTF-8, encoded once for every group); a lone surrogate
    becomes "?" instead of an error."""
    return fold(text).encode("utf-8", "replace")


def matched_words(matcher: Matcher, text: bytes) -> str | None:
    """The words of the first match of `matcher` in `text` (from `keyword_text`), or None."""
    match = matcher.search(text)
    if match is None:
        return None
    return match.group(1).decode("utf-8", "replace").strip()
