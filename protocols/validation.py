"""Validation of a protocol document: every problem named by the field it is in."""

import re
import string
from dataclasses import dataclass
from itertools import pairwise
from numbers import Real
from typing import Any

from django.utils.translation import gettext

from protocols.defaults import TEMPLATE_VARIABLES
from protocols.scoring.patterns import group_error, pattern_error
from protocols.scoring.types import Severity, TriageClass
from protocols.spikes import DEFAULT_SENSITIVITY, SENSITIVITIES

SECTIONS = (
    "weights",
    "lexicons",
    "keyword_groups",
    "reach_tiers",
    "author_flags",
    "repeat_complainant",
    "velocity",
    "severity_thresholds",
    "crisis_threshold",
    "policies",
    "incidents",
    "routing",
    "sla",
    "replies",
    "crisis",
)
LANGUAGES = ("es", "en")
KNOWN_FLAGS = ("influencer", "ambassador", "known_troll", "customer")
MAX_SLA_MINUTES = 24 * 60  # practice 2: answer within 24 hours at the latest
MAX_WINDOW_MINUTES = 30 * 24 * 60  # attach and reopen windows: a month at most
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True, slots=True)
class FieldError:
    path: str  # e.g. "keyword_groups[1].patterns[0]"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def number(self, path: str, value: Any, low: float | None = None, high: float | None = None):
        if isinstance(value, bool) or not isinstance(value, Real):
            self.add(path, gettext("must be a number"))
            return None
        if low is not None and value < low:
            self.add(path, gettext("must be at least %(low)s") % {"low": low})
        if high is not None and value > high:
            self.add(path, gettext("must be at most %(high)s") % {"high": high})
        return value

    def mapping(self, path: str, value: Any) -> dict:
        if not isinstance(value, dict):
            self.add(path, gettext("must be an object"))
            return {}
        return value

    def sequence(self, path: str, value: Any) -> list:
        if not isinstance(value, list):
            self.add(path, gettext("must be a list"))
            return []
        return value


def validate_config(config: Any) -> list[FieldError]:
    errors = _Collector()
    config = errors.mapping("protocol", config)
    for section in SECTIONS:
        if section not in config:
            errors.add(section, gettext("this section is missing"))
    for extra in sorted(set(config) - set(SECTIONS)):
        errors.add(extra, gettext("unknown section"))
    checks = {
        "weights": _weights,
        "lexicons": _lexicons,
        "keyword_groups": _keyword_groups,
        "reach_tiers": _reach_tiers,
        "author_flags": _author_flags,
        "repeat_complainant": _repeat_complainant,
        "velocity": _velocity,
        "severity_thresholds": _severity_thresholds,
        "crisis_threshold": _crisis_threshold,
        "policies": _policies,
        "incidents": _incidents,
        "routing": _routing,
        "sla": _sla,
        "replies": _replies,
        "crisis": _crisis,
    }
    for section, check in checks.items():
        if section in config:
            check(errors, config[section])
    return errors.errors


def _weights(errors: _Collector, weights: Any) -> None:
    for name, value in errors.mapping("weights", weights).items():
        errors.number(f"weights.{name}", value, -100, 100)


def _lexicons(errors: _Collector, lexicons: Any) -> None:
    lexicons = errors.mapping("lexicons", lexicons)
    for language in LANGUAGES:
        if language not in lexicons:
            errors.add(f"lexicons.{language}", gettext("a lexicon is needed for each language"))
    for language, lexicon in lexicons.items():
        for name, entries in errors.mapping(f"lexicons.{language}", lexicon).items():
            path = f"lexicons.{language}.{name}"
            if isinstance(entries, dict):
                for word, weight in entries.items():
                    if not str(word).strip():
                        errors.add(path, gettext("contains an empty word"))
                    errors.number(f"{path}.{word}", weight, -10, 10)
            elif isinstance(entries, list):
                for index, word in enumerate(entries):
                    if not isinstance(word, str) or not word.strip():
                        errors.add(
                            f"{path}[{index}]", gettext("must be a non-empty word or phrase")
                        )
            else:
                errors.add(path, gettext("must be a list of words or an object of word: weight"))


def _keyword_groups(errors: _Collector, groups: Any) -> None:
    seen: set[str] = set()
    for index, group in enumerate(errors.sequence("keyword_groups", groups)):
        path = f"keyword_groups[{index}]"
        group = errors.mapping(path, group)
        key = group.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            errors.add(
                f"{path}.key", gettext("use lower-case letters, digits and _ (e.g. authority)")
            )
        elif key in seen:
            errors.add(f"{path}.key", gettext("“%(key)s” is used by another group") % {"key": key})
        else:
            seen.add(key)
        if not str(group.get("label", "")).strip():
            errors.add(f"{path}.label", gettext("give the group a name"))
        patterns = errors.sequence(f"{path}.patterns", group.get("patterns"))
        if not patterns:
            errors.add(f"{path}.patterns", gettext("add at least one word, phrase or pattern"))
        _keyword_patterns(errors, path, patterns, regex=group.get("regex") is True)
        if not isinstance(group.get("regex", False), bool):
            errors.add(f"{path}.regex", gettext("must be true or false"))
        errors.number(f"{path}.boost", group.get("boost"), 0, 100)
        contact = group.get("escalation_contact", "")
        if not isinstance(contact, str):
            errors.add(f"{path}.escalation_contact", gettext("must be text (an e-mail or a team)"))


def _keyword_patterns(errors: _Collector, path: str, patterns: list, *, regex: bool) -> None:
    """Each pattern, then the group's patterns together, must compile with RE2 (as the engine
    compiles them), so a saved protocol never holds a pattern that could not run."""
    runnable = True
    for position, pattern in enumerate(patterns):
        pattern_path = f"{path}.patterns[{position}]"
        if not isinstance(pattern, str) or not pattern.strip():
            errors.add(pattern_path, "must be a non-empty word or phrase")
            runnable = False
            continue
        reason = pattern_error(pattern, regex=regex)
        if reason is not None:
            errors.add(pattern_path, _refused(reason, regex=regex))
            runnable = False
    if runnable and patterns:
        reason = group_error(patterns, regex=regex)
        if reason is not None:
            errors.add(
                f"{path}.patterns",
                gettext("these patterns cannot run together (%(reason)s): split the group")
                % {"reason": reason},
            )


def _refused(reason: str, *, regex: bool) -> str:
    if not regex:
        return gettext("cannot be used (%(reason)s): make it shorter") % {"reason": reason}
    return gettext(
        "invalid regular expression (%(reason)s). Patterns run in linear time, so look-around "
        "such as (?<!…) or (?=…), back-references such as \\1 and atomic or possessive groups "
        "are not available"
    ) % {"reason": reason}


def _reach_tiers(errors: _Collector, tiers: Any) -> None:
    tiers = errors.sequence("reach_tiers", tiers)
    if not tiers:
        errors.add("reach_tiers", gettext("add at least the tier starting at 0 followers"))
    previous = -1
    for index, tier in enumerate(tiers):
        path = f"reach_tiers[{index}]"
        tier = errors.mapping(path, tier)
        minimum = errors.number(f"{path}.min_followers", tier.get("min_followers"), 0)
        errors.number(f"{path}.boost", tier.get("boost"), -50, 50)
        if minimum is not None:
            if index == 0 and minimum != 0:
                errors.add(f"{path}.min_followers", gettext("the first tier must start at 0"))
            if minimum <= previous:
                errors.add(f"{path}.min_followers", gettext("tiers must go up in followers"))
            previous = minimum


def _author_flags(errors: _Collector, flags: Any) -> None:
    for name, value in errors.mapping("author_flags", flags).items():
        if name not in KNOWN_FLAGS:
            errors.add(
                f"author_flags.{name}",
                gettext("unknown flag; use %(flags)s") % {"flags": ", ".join(KNOWN_FLAGS)},
            )
        errors.number(f"author_flags.{name}", value, -50, 50)


def _repeat_complainant(errors: _Collector, section: Any) -> None:
    section = errors.mapping("repeat_complainant", section)
    errors.number("repeat_complainant.min_previous", section.get("min_previous"), 1, 1000)
    errors.number("repeat_complainant.boost", section.get("boost"), 0, 50)


def _velocity(errors: _Collector, section: Any) -> None:
    section = errors.mapping("velocity", section)
    factor = errors.number("velocity.spike_factor", section.get("spike_factor"), 1, 1000)
    if factor is not None and factor <= 1:
        errors.add("velocity.spike_factor", gettext("must be above 1 (1 means the normal rate)"))
    errors.number("velocity.boost", section.get("boost"), 0, 50)
    # Optional: versions stored before it existed read as "normal".
    sensitivity = section.get("sensitivity", DEFAULT_SENSITIVITY)
    if not isinstance(sensitivity, str) or sensitivity not in SENSITIVITIES:
        errors.add(
            "velocity.sensitivity",
            gettext("must be one of: %(choices)s") % {"choices": ", ".join(SENSITIVITIES)},
        )


def _severity_thresholds(errors: _Collector, section: Any) -> None:
    section = errors.mapping("severity_thresholds", section)
    values = []
    for level in (Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL):
        value = errors.number(f"severity_thresholds.{level}", section.get(level), 1, 100)
        values.append((level, value))
    for (lower, low), (upper, high) in pairwise(values):
        if low is not None and high is not None and high <= low:
            errors.add(
                f"severity_thresholds.{upper}",
                gettext("overlaps %(lower)s: it must be higher than %(lower)s (%(low)s)")
                % {"lower": _severity_name(lower), "low": low},
            )


def _severity_name(level: str) -> str:
    """A severity as a sentence names it ("medium" / "media")."""
    return str(Severity(level).label).lower() if level in Severity.values else level


def _crisis_threshold(errors: _Collector, section: Any) -> None:
    section = errors.mapping("crisis_threshold", section)
    errors.number("crisis_threshold.incidents", section.get("incidents"), 1, 10_000)
    errors.number("crisis_threshold.window_minutes", section.get("window_minutes"), 1, 10_080)
    factor = errors.number("crisis_threshold.spike_factor", section.get("spike_factor"), 1, 1000)
    if factor is not None and factor <= 1:
        errors.add(
            "crisis_threshold.spike_factor", gettext("must be above 1 (1 means the normal rate)")
        )


def _policies(errors: _Collector, policies: Any) -> None:
    policies = errors.mapping("policies", policies)
    for level in Severity.ORDER:
        if level not in policies:
            errors.add(
                f"policies.{level}",
                gettext("severity “%(level)s” has no response policy")
                % {"level": _severity_name(level)},
            )
    for level, policy in policies.items():
        path = f"policies.{level}"
        if level not in Severity.ORDER:
            errors.add(path, gettext("unknown severity"))
        policy = errors.mapping(path, policy)
        errors.number(f"{path}.sla_minutes", policy.get("sla_minutes"), 1, MAX_SLA_MINUTES)
        if not isinstance(policy.get("needs_approval"), bool):
            errors.add(f"{path}.needs_approval", gettext("must be true or false"))
        for index, contact in enumerate(
            errors.sequence(f"{path}.escalation_contacts", policy.get("escalation_contacts", []))
        ):
            if not isinstance(contact, str) or not contact.strip():
                errors.add(
                    f"{path}.escalation_contacts[{index}]", gettext("must be an e-mail or a team")
                )
        for triage_class, action in errors.mapping(
            f"{path}.actions", policy.get("actions", {})
        ).items():
            action_path = f"{path}.actions.{triage_class}"
            if triage_class not in TriageClass.ALL:
                errors.add(
                    action_path,
                    gettext("unknown triage class; use %(classes)s")
                    % {"classes": ", ".join(TriageClass.ALL)},
                )
            action = errors.mapping(action_path, action)
            templates = errors.mapping(f"{action_path}.templates", action.get("templates", {}))
            for language, texts in templates.items():
                for index, text in enumerate(
                    errors.sequence(f"{action_path}.templates.{language}", texts)
                ):
                    _template(errors, f"{action_path}.templates.{language}[{index}]", text)


def _template(errors: _Collector, path: str, text: Any) -> None:
    if not isinstance(text, str):
        errors.add(path, gettext("must be text"))
        return
    try:
        names = {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}
    except ValueError as error:
        errors.add(
            path,
            gettext("cannot be read: %(error)s (write {{ and }} for literal braces)")
            % {"error": error},
        )
        return
    for name in sorted(names - set(TEMPLATE_VARIABLES)):
        allowed = ", ".join("{" + variable + "}" for variable in TEMPLATE_VARIABLES)
        errors.add(
            path,
            gettext("unknown variable %(variable)s; use %(allowed)s")
            % {"variable": "{" + name + "}", "allowed": allowed},
        )


def _whole_number(errors: _Collector, path: str, value: Any, low: int, high: int) -> None:
    if errors.number(path, value, low, high) is not None and value != int(value):
        errors.add(path, gettext("must be a whole number"))


def _boolean(errors: _Collector, path: str, value: Any) -> None:
    if not isinstance(value, bool):
        errors.add(path, gettext("must be true or false"))


def _choices(errors: _Collector, path: str, value: Any, allowed: tuple[str, ...]) -> None:
    """A list of distinct values, each one of `allowed`."""
    items = errors.sequence(path, value)
    for index, item in enumerate(items):
        if item not in allowed:
            errors.add(
                f"{path}[{index}]",
                gettext("unknown value; use %(allowed)s") % {"allowed": ", ".join(allowed)},
            )
    if len(set(map(str, items))) != len(items):
        errors.add(path, gettext("lists a value twice"))


def _incidents(errors: _Collector, section: Any) -> None:
    section = errors.mapping("incidents", section)
    for name in ("attach_window_minutes", "reopen_window_minutes"):
        _whole_number(errors, f"incidents.{name}", section.get(name), 0, MAX_WINDOW_MINUTES)
    _choices(errors, "incidents.open_severities", section.get("open_severities"), Severity.ORDER)
    for name in ("open_classes", "open_low_classes"):
        _choices(errors, f"incidents.{name}", section.get(name), TriageClass.ALL)


def _routing(errors: _Collector, section: Any) -> None:
    section = errors.mapping("routing", section)
    _whole_number(
        errors, "routing.max_open_per_manager", section.get("max_open_per_manager"), 1, 1000
    )
    for name in ("alert_supervisors_severities", "oncall_outside_shifts_severities"):
        _choices(errors, f"routing.{name}", section.get(name), Severity.ORDER)
    alert_groups = errors.sequence("routing.alert_groups", section.get("alert_groups"))
    for index, key in enumerate(alert_groups):
        if not isinstance(key, str) or not _KEY.match(key):
            errors.add(
                f"routing.alert_groups[{index}]",
                gettext("must be the key of a keyword group (e.g. authority)"),
            )
    _boolean(errors, "routing.handback_on_shift_end", section.get("handback_on_shift_end"))


def _sla(errors: _Collector, section: Any) -> None:
    section = errors.mapping("sla", section)
    fraction = errors.number("sla.warn_at_fraction", section.get("warn_at_fraction"), 0, 1)
    if fraction is not None and not 0 < fraction < 1:
        errors.add(
            "sla.warn_at_fraction",
            gettext("must be between 0 and 1 (0.8 warns when 80 percent of the time has passed)"),
        )
    _boolean(errors, "sla.handback_on_breach", section.get("handback_on_breach"))


MAX_PHRASES = 200
MAX_PHRASE_LENGTH = 300
MAX_BRAND_LENGTH = 100


def _replies(errors: _Collector, section: Any) -> None:
    section = errors.mapping("replies", section)
    brand = section.get("brand")
    if not isinstance(brand, str) or not brand.strip() or len(brand) > MAX_BRAND_LENGTH:
        errors.add(
            "replies.brand",
            gettext("must be the brand's name (1 to %(limit)s characters)")
            % {"limit": MAX_BRAND_LENGTH},
        )
    _choices(errors, "replies.approval_classes", section.get("approval_classes"), TriageClass.ALL)
    for index, key in enumerate(
        errors.sequence("replies.legal_groups", section.get("legal_groups"))
    ):
        if not isinstance(key, str) or not _KEY.match(key):
            errors.add(
                f"replies.legal_groups[{index}]",
                gettext("must be the key of a keyword group (e.g. authority)"),
            )
    _whole_number(
        errors,
        "replies.approval_escalate_minutes",
        section.get("approval_escalate_minutes"),
        1,
        MAX_SLA_MINUTES,
    )
    _phrases_by_language(errors, "replies.boilerplate", section.get("boilerplate"))
    templates = errors.mapping(
        "replies.acknowledgement_templates", section.get("acknowledgement_templates")
    )
    for language, texts in templates.items():
        path = f"replies.acknowledgement_templates.{language}"
        if language not in LANGUAGES:
            errors.add(path, gettext("unknown language; use es or en"))
        for index, text in enumerate(errors.sequence(path, texts)):
            _template(errors, f"{path}[{index}]", text)
    _whole_number(
        errors, "replies.follow_up_due_hours", section.get("follow_up_due_hours"), 1, 24 * 30
    )
    _boolean(errors, "replies.hide_needs_approval", section.get("hide_needs_approval"))


def _phrases_by_language(errors: _Collector, path: str, value: Any) -> None:
    for language, phrases in errors.mapping(path, value).items():
        language_path = f"{path}.{language}"
        if language not in LANGUAGES:
            errors.add(language_path, gettext("unknown language; use es or en"))
        phrases = errors.sequence(language_path, phrases)
        if len(phrases) > MAX_PHRASES:
            errors.add(language_path, gettext("at most %(limit)s phrases") % {"limit": MAX_PHRASES})
        for index, phrase in enumerate(phrases[:MAX_PHRASES]):
            if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > MAX_PHRASE_LENGTH:
                errors.add(
                    f"{language_path}[{index}]",
                    gettext("must be a phrase of 1 to %(limit)s characters")
                    % {"limit": MAX_PHRASE_LENGTH},
                )


MAX_CHANNELS = 30
PLATFORM_KEYS = ("", "mastodon", "bluesky", "reddit", "youtube")


def _crisis(errors: _Collector, section: Any) -> None:
    section = errors.mapping("crisis", section)
    levels = errors.sequence("crisis.levels", section.get("levels"))
    numbers = []
    for index, level in enumerate(levels):
        path = f"crisis.levels[{index}]"
        level = errors.mapping(path, level)
        _whole_number(errors, f"{path}.level", level.get("level"), 1, 9)
        numbers.append(level.get("level"))
        label = level.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            errors.add(f"{path}.label", gettext("must be a name of 1 to 60 characters"))
    if not levels:
        errors.add("crisis.levels", gettext("needs at least one level"))
    elif len(set(map(str, numbers))) != len(numbers):
        errors.add("crisis.levels", gettext("lists a level twice"))
    _whole_number(
        errors,
        "crisis.update_cadence_minutes",
        section.get("update_cadence_minutes"),
        5,
        MAX_SLA_MINUTES,
    )
    for index, level in enumerate(
        errors.sequence("crisis.legal_approval_levels", section.get("legal_approval_levels"))
    ):
        if level not in numbers:
            errors.add(
                f"crisis.legal_approval_levels[{index}]", gettext("must be one of the levels")
            )
    channels = errors.sequence("crisis.channels", section.get("channels"))
    if len(channels) > MAX_CHANNELS:
        errors.add(
            "crisis.channels", gettext("at most %(limit)s channels") % {"limit": MAX_CHANNELS}
        )
    keys = []
    for index, channel in enumerate(channels[:MAX_CHANNELS]):
        path = f"crisis.channels[{index}]"
        channel = errors.mapping(path, channel)
        key = channel.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            errors.add(f"{path}.key", gettext("must be a short key (e.g. blog)"))
        keys.append(key)
        label = channel.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            errors.add(f"{path}.label", gettext("must be a name of 1 to 60 characters"))
        if channel.get("limit") is not None:
            _whole_number(errors, f"{path}.limit", channel.get("limit"), 1, 100_000)
        if channel.get("platform", "") not in PLATFORM_KEYS:
            errors.add(
                f"{path}.platform",
                gettext("unknown platform; use %(allowed)s")
                % {"allowed": ", ".join(key for key in PLATFORM_KEYS if key)},
            )
    if len(set(map(str, keys))) != len(keys):
        errors.add("crisis.channels", gettext("lists a channel twice"))
