"""The protocol's reply rules as pure functions: which templates fit an incident, how a
template is filled, which phrases the tone check flags, and who must approve a reply.

Used by `crisis.replies` (drafts, approval) and by the protocol editor's live preview; no
database access, so both see the same answer for the same protocol document.
"""

import string
from dataclasses import dataclass, field
from typing import Any

from protocols.defaults import TEMPLATE_VARIABLES
from protocols.schema import section

SUPERVISOR = "supervisor"
LEGAL = "legal"

# Longest reply each platform accepts, in characters (Bluesky counts graphemes; characters
# are a safe upper bound for the warning). None: no practical limit worth showing.
CHARACTER_LIMITS: dict[str, int | None] = {
    "mastodon": 500,
    "bluesky": 300,
    "reddit": 10_000,
    "youtube": 10_000,
    "feed": None,
    "webhook": None,
    "csv": None,
}


@dataclass(frozen=True, slots=True)
class FilledTemplate:
    text: str
    # Variables the template uses that had no value: left as "{name}" in the text.
    missing: list[str] = field(default_factory=list)


def fill_template(template: str, values: dict[str, str]) -> FilledTemplate:
    """Fill `{author}`, `{brand}`, … from `values`; a variable without a value (or an unknown
    one) stays as written and is listed in `missing`. Never raises on a malformed template: a
    text that is not a valid format string is returned as is."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return FilledTemplate(template, [])
    out: list[str] = []
    missing: list[str] = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is None:
            continue
        value = values.get(name, "")
        if name in TEMPLATE_VARIABLES and str(value).strip():
            out.append(str(value))
        else:
            if name not in missing:
                missing.append(name)
            out.append(_as_written(name, spec, conversion))
    return FilledTemplate("".join(out), missing)


def _as_written(name: str, spec: str | None, conversion: str | None) -> str:
    inner = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
    return "{" + inner + "}"


def unfilled_variables(text: str) -> list[str]:
    """Known template variables still written as `{name}` in a (possibly edited) reply."""
    return [name for name in TEMPLATE_VARIABLES if "{" + name + "}" in text]


def templates_for(
    config: dict[str, Any], *, severity: str, triage_class: str, language: str
) -> list[str]:
    """The protocol's reply templates for an incident's severity and class, in `language`
    (falling back to the other language when it has none)."""
    action = config.get("policies", {}).get(severity, {}).get("actions", {}).get(triage_class, {})
    templates = action.get("templates", {})
    return list(templates.get(language) or templates.get(_other(language)) or [])


def acknowledgement_templates(config: dict[str, Any], *, language: str) -> list[str]:
    """The short public acknowledgement of "take it private", in `language` (or the other)."""
    templates = section(config, "replies").get("acknowledgement_templates", {})
    return list(templates.get(language) or templates.get(_other(language)) or [])


def boilerplate_found(config: dict[str, Any], text: str) -> list[str]:
    """The protocol's boilerplate phrases (both languages) that `text` contains, ignoring
    case: the tone check's gentle warning."""
    folded = text.casefold()
    phrases = section(config, "replies").get("boilerplate", {})
    found: list[str] = []
    for language in ("es", "en"):
        for phrase in phrases.get(language, []):
            if phrase.casefold() in folded and phrase not in found:
                found.append(phrase)
    return found


def approvers_required(
    config: dict[str, Any], *, severity: str, triage_class: str, keyword_groups: list[str]
) -> list[str]:
    """Who must approve a public reply on this incident before it goes out: [] (nobody),
    ["supervisor"], or ["supervisor", "legal"] when the incident matched a legal keyword
    group. Approval is needed when the severity's policy says so or the class is listed."""
    replies = section(config, "replies")
    policy = config.get("policies", {}).get(severity, {})
    needs = bool(policy.get("needs_approval")) or triage_class in replies.get(
        "approval_classes", []
    )
    legal = bool(set(keyword_groups) & set(replies.get("legal_groups", [])))
    if legal:
        return [SUPERVISOR, LEGAL]
    return [SUPERVISOR] if needs else []


def escalation_contacts(config: dict[str, Any], *, severity: str) -> list[str]:
    return list(config.get("policies", {}).get(severity, {}).get("escalation_contacts", []))


def _other(language: str) -> str:
    return "en" if language == "es" else "es"
