"""How stored protocol values read in the interface: labels, "why this score", moves, times."""

import re
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from protocols.schema import CRISIS_UPGRADE_NOTES, REPLIES_UPGRADE_NOTES, UPGRADE_NOTES
from protocols.scoring.types import (
    AuthorFlag,
    Severity,
    SignalKind,
    TriageClass,
    explain,
    topic_label,
)

# Scores stored before signals kept their parameters hold only the English sentence; these
# read the parameters back out of it, so old rows are worded in the reader's language too.
_LEGACY = {
    "negative_sentiment": re.compile(r"\((?P<sentiment>-?[\d.]+)\)(?:: (?P<terms>.*))?$"),
    "positive_sentiment": re.compile(r"\(\+?(?P<sentiment>[\d.]+)\)(?:: (?P<terms>.*))?$"),
    "complaint": re.compile(r"^complaint(?:: (?P<terms>.*))?$"),
    "company_fault": re.compile(r"^concrete service failure: ?(?P<terms>.*)$"),
    "abuse": re.compile(r"^insult or abuse(?:: (?P<terms>.*?))?(?P<directed> \(directed\))?"),
    "question": re.compile(r"^question(?:: (?P<terms>.*))?$"),
    "keyword": re.compile(r'^keyword group (?P<group>\S+): "(?P<match>.*)"$'),
    "reach": re.compile(r"^reach: (?P<followers>[\d.]+[kM]?) followers$"),
    "author": re.compile(r"^author flagged (?P<flag>\S+)$"),
    "repeat_complainant": re.compile(r"^repeat complainant: (?P<count>\d+) previous"),
    "velocity": re.compile(r"^spike ×(?P<factor>[\d.]+)(?: on topic (?P<topic>.+))?$"),
    "cap": re.compile(r"^capped at (?P<capped>-?\d+) \(total was (?P<total>-?\d+)\)$"),
}
_QUOTED = re.compile(r'"([^"]*)"')

# Keys of the protocol's numeric sections that are not scoring enumerations.
_FIELD_LABELS = {
    "abuse_min_strength": _("Abuse from insult strength"),
    "complaint_max_sentiment": _("Complaint up to sentiment"),
    "failure_max_sentiment": _("Weak failure is a complaint up to sentiment"),
    "annoyed_max_sentiment": _("Annoyed up to sentiment"),
    "praise_min_sentiment": _("Praise from sentiment"),
    "incidents": _("High-or-critical mentions"),
    "window_minutes": _("Window (minutes)"),
    "spike_factor": _("Rate over baseline"),
    "boost": _("Boost"),
    "sensitivity": _("Surge sensitivity"),
    "min_previous": _("Previous complaints"),
    "min_followers": _("Followers from"),
    # lists of a lexicon
    "positive": _("positive words"),
    "negative": _("negative words"),
    "negations": _("negations"),
    "intensifiers": _("intensifiers"),
    "diminishers": _("diminishers"),
    "contrast": _("contrast words"),
    "insults": _("insults"),
    "failures": _("service failures"),
    "negated_failures": _("negated failures"),
    "service_terms": _("service terms"),
    "complaint_markers": _("complaint markers"),
    "question_starters": _("question starters"),
    "requests": _("requests"),
    "targets": _("targeted groups"),
    "second_person": _("second person"),
    "stopwords": _("stopwords"),
    # incidents, routing and SLA sections
    "attach_window_minutes": _("Attach window (minutes)"),
    "reopen_window_minutes": _("Reopen window (minutes)"),
    "open_severities": _("Severities that open an incident"),
    "open_classes": _("Classes that open an incident"),
    "open_low_classes": _("Classes for which a low mention opens one"),
    "max_open_per_manager": _("Open incidents per manager at most"),
    "alert_supervisors_severities": _("Severities that alert the supervisors"),
    "alert_groups": _("Keyword groups that alert the supervisors"),
    "handback_on_shift_end": _("Back to routing when a shift ends"),
    "oncall_outside_shifts_severities": _("Severities for the on-call supervisor outside shifts"),
    "warn_at_fraction": _("Warn the owner at this share of the time"),
    "handback_on_breach": _("Back to routing on a breach"),
    # replies section
    "brand": _("Brand"),
    "approval_classes": _("Classes that always need approval"),
    "legal_groups": _("Keyword groups that need a legal reviewer"),
    "approval_escalate_minutes": _("Escalate a waiting approval after (minutes)"),
    "boilerplate": _("Boilerplate to avoid"),
    "acknowledgement_templates": _("Acknowledgement templates"),
    "follow_up_due_hours": _("Private follow-up due after (hours)"),
    "hide_needs_approval": _("Hiding a mention needs approval"),
    # response policies
    "sla_minutes": _("First response within (minutes)"),
    "needs_approval": _("Replies need approval"),
    "escalation_contacts": _("Escalation contacts"),
}

# Texts Calma ships in its data (the default protocol, its keyword groups, the demo sources):
# stored as written here, shown in the reader's language.
SHIPPED_TEXTS = frozenset(
    (
        gettext_noop("Calma default protocol"),
        gettext_noop("Shipped with Calma."),
        gettext_noop("Consumer protection, ombudsman, regulators"),
        gettext_noop("Lawyers, courts, legal threats"),
        gettext_noop("Health and safety"),
        gettext_noop("Data breach and privacy"),
        gettext_noop("YouTube channel comments"),
        gettext_noop(
            "Own it: apologise quickly, give the most satisfactory legal solution, "
            "then take it private."
        ),
        gettext_noop("Reason calmly with facts; offer the pre-approved intermediate solution."),
        gettext_noop("Do not feed it. Do not reply; hide only with a written justification."),
        gettext_noop("Answer the question plainly and link to the help page."),
        gettext_noop("Thank them warmly; consider them as a possible ambassador."),
        gettext_noop("No reply needed; keep monitoring."),
        UPGRADE_NOTES,
        REPLIES_UPGRADE_NOTES,
        CRISIS_UPGRADE_NOTES,
        gettext_noop("Watch"),
        gettext_noop("Serious"),
        gettext_noop("Critical"),
        gettext_noop("Blog"),
        gettext_noop("Video"),
    )
)
_DRAFT_NAME = re.compile(r"^Draft from v(\d+)$")


def shipped_text(value: str) -> str:
    """A stored text in the reader's language when Calma wrote it; a person's text as is."""
    if value in SHIPPED_TEXTS:
        return gettext(value)
    match = _DRAFT_NAME.match(value or "")
    if match:
        return gettext("Draft from v%(number)s") % {"number": match[1]}
    return value


def _followers(text: str) -> int:
    multiplier = {"k": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return round(float(text.rstrip("kM")) * multiplier)


def _legacy_params(kind: str, label: str) -> dict[str, Any] | None:
    pattern = _LEGACY.get(kind)
    match = pattern.search(label) if pattern else None
    if match is None:
        return None
    found = {key: value for key, value in match.groupdict().items() if value is not None}
    params: dict[str, Any] = {}
    for key, value in found.items():
        if key == "terms":
            params["terms"] = _QUOTED.findall(value)
        elif key in ("sentiment", "factor"):
            params[key] = float(value)
        elif key == "followers":
            params["followers"] = _followers(value)
        elif key in ("count", "capped", "total"):
            params[key] = int(value)
        elif key == "directed":
            params["directed"] = True
        else:
            params[key] = value
    if kind == "positive_sentiment":
        params["sentiment"] = abs(params["sentiment"])
    return params


def signal_explanation(signal: dict) -> str:
    """One stored "why this score" line in the active language."""
    name = str(signal.get("name", ""))
    kind = name.split(":", 1)[0]
    params = signal.get("params")
    if params is None:
        params = {} if kind == "base" else _legacy_params(kind, str(signal.get("label", "")))
    if params is None:
        return str(signal.get("label", name))
    return explain(name, params)


def severity_label(value: str) -> str:
    return str(Severity(value).label) if value in Severity.values else value


def triage_label(value: str) -> str:
    return str(TriageClass(value).label) if value in TriageClass.values else value


def setting_value(value: Any) -> str:
    """A value of the incidents, routing or SLA section as a reader sees it: yes/no, a list of
    severities or classes by their labels (keyword groups by their keys)."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(triage_label(severity_label(str(item))) for item in value) or "—"
    return str(value)


def protocol_key_label(key: str) -> str:
    """A key of a numeric protocol section (a weight, a threshold, a flag) as a reader sees it."""
    for choices in (Severity, SignalKind, AuthorFlag):
        if key in choices.values:
            return str(choices(key).label)
    if key in _FIELD_LABELS:
        return str(_FIELD_LABELS[key])
    return key.replace("_", " ")


def move_label(move: str, *, of: str = "severity") -> str:
    """A backtest move stored as "low>high" read as "Low → High"."""
    label = severity_label if of == "severity" else triage_label
    before, _sep, after = move.partition(">")
    return f"{label(before)} → {label(after)}"


def crossing_label(topic: str) -> str:
    """A crisis crossing's topic: "spike:<topic>" for a surge, else serious mentions on it."""
    if topic.startswith("spike:"):
        return gettext("Spike on %(topic)s") % {"topic": topic_label(topic.removeprefix("spike:"))}
    return topic_label(topic)


def stored_datetime(value: str) -> datetime | str:
    """An ISO time stored in a JSON result, as an aware datetime the templates localise."""
    try:
        parsed = parse_datetime(value)
    except (TypeError, ValueError):
        return value
    return parsed if parsed is not None else value
