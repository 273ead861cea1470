"""Turning a raw mention into comparable tokens: case, accents, elongation, emoji, hashtags.

Everything here is precompiled at import and pure; `normalise` runs on every mention, so it
avoids per-call allocations beyond the token list.
"""

import re
from dataclasses import dataclass

# Accents folded away (ñ is kept: "año" is not "ano"), apostrophes dropped ("don't" ->
# "dont", which is how most people type it anyway).
_FOLD = str.maketrans(
    {
        "á": "a",
        "à": "a",
        "â": "a",
        "ä": "a",
        "ã": "a",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "í": "i",
        "ì": "i",
        "î": "i",
        "ï": "i",
        "ó": "o",
        "ò": "o",
        "ô": "o",
        "ö": "o",
        "õ": "o",
        "ú": "u",
        "ù": "u",
        "û": "u",
        "ü": "u",
        "ç": "c",
        "'": "",
        "’": "",
        "‘": "",
        "`": "",
        "´": "",
        "\u200d": "",
        "\ufe0f": "",
    }
)

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|es|net|org|ly|co)/\S*", re.I)
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-záéíóúñ])(?=[A-ZÁÉÍÓÚÑ])")
# Emoticons become words so the lexicons can give them a polarity.
_EMOTICONS = (
    (re.compile(r"<3+"), " emoheart "),
    (re.compile(r"(?<![\w:])(?:[:;=]-?'?[)\]}dDpP*]+|\(+-?[:;=]|\^_*\^|:3)(?!\w)"), " emopos "),
    (re.compile(r"(?<![\w:])(?:[:;=]'?-?[(\[{]+|\)+-?[:;=]|[tT]_[tT]|;_;)(?!\w)"), " emosad "),
    (re.compile(r"(?<![\w:])(?:[:=]-?[/\\|sS@]|-_+-)(?![\w/])"), " emoannoyed "),
)
_LAUGH = re.compile(
    r"\b(?:a?(?:j+[aeiou]+){2,}j*|a?(?:h+[ae]+){2,}h*|(?:js)+j?|lo+l+|lmf?ao+|rofl|xd+|"
    r"(?:ja|je|ji){1,}j*)\b"
)
_ELONGATED = re.compile(r"(\w)\1{2,}")
_DOUBLED = re.compile(r"(\w)\1+")
_TOKEN = re.compile(
    r"[a-zñ0-9_]+(?:[/+*][a-z0-9]+)?|[!?¿¡.,;:]+|"
    r"[\u2600-\u27bf\U0001f300-\U0001f3fa\U0001f400-\U0001faff]"
)
_CAPS = re.compile(r"\b[A-ZÁÉÍÓÚÑ]{3,}\b")

LAUGH_TOKEN = "emolaugh"  # noqa: S105 - a word, not a secret


def fold(text: str) -> str:
    """Lower case without accents or apostrophes: the form every lexicon entry is kept in."""
    return text.lower().translate(_FOLD)


def collapse(token: str) -> str:
    """The token with every doubled letter written once ("pesimoo" -> "pesimo")."""
    return _DOUBLED.sub(r"\1", token)


@dataclass(slots=True)
class Normalised:
    tokens: list[str]  # words, emoji, emoticon words and punctuation runs, in order
    elongated: frozenset[str]  # tokens that had a letter repeated 3+ times
    shouted: frozenset[str]  # tokens written in capitals inside mixed-case text
    question_marks: int
    inverted_question: bool  # "¿" present
    exclamations: int
    laughs: int


def _split_hashtag(match: re.Match) -> str:
    return " " + _CAMEL.sub(" ", match.group(1)).replace("_", " ") + " "


def normalise(text: str) -> Normalised:
    """Tokens of a mention, with URLs and @mentions removed and hashtags split."""
    if "http" in text or "www." in text or "/" in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(_split_hashtag, text)
    shouted: frozenset[str] = frozenset()
    capitals = _CAPS.findall(text)
    if capitals and not text.isupper():
        shouted = frozenset(fold(word) for word in capitals)
    for pattern, word in _EMOTICONS:
        text = pattern.sub(word, text)
    text = fold(text)
    laughs = 0
    if "j" in text or "h" in text or "x" in text or "l" in text:
        text, laughs = _LAUGH.subn(" " + LAUGH_TOKEN + " ", text)
    elongated: frozenset[str] = frozenset()
    if _ELONGATED.search(text):
        found = [match.group(0) for match in re.finditer(r"\w*(\w)\1{2,}\w*", text)]
        text = _ELONGATED.sub(r"\1\1", text)
        elongated = frozenset(_ELONGATED.sub(r"\1\1", word) for word in found)
    tokens = _TOKEN.findall(text)
    return Normalised(
        tokens=tokens,
        elongated=elongated,
        shouted=shouted,
        question_marks=text.count("?"),
        inverted_question="¿" in text,
        exclamations=text.count("!"),
        laughs=laughs,
    )


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """A lexicon entry in token form, normalised exactly like mentions are."""
    folded = fold(phrase)
    return tuple(_TOKEN.findall(folded)) or (folded.strip(),)
