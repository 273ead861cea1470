"""Invalid protocol input is refused with a message naming the field."""

import pytest

from protocols.defaults import default_config
from protocols.validation import validate_config


def errors_for(mutate) -> dict[str, str]:
    config = default_config()
    mutate(config)
    return {error.path: error.message for error in validate_config(config)}


def test_the_shipped_protocol_is_valid():
    assert validate_config(default_config()) == []


def test_an_invalid_regex_is_named_by_group_and_pattern():
    def mutate(config):
        config["keyword_groups"][1]["patterns"][2] = "demanda(r"

    errors = errors_for(mutate)
    assert "invalid regular expression" in errors["keyword_groups[1].patterns[2]"]


def test_overlapping_severity_thresholds_are_refused():
    errors = errors_for(lambda c: c["severity_thresholds"].update({"high": 30, "medium": 30}))
    assert "overlaps medium" in errors["severity_thresholds.high"]


def test_a_severity_without_policy_is_refused():
    errors = errors_for(lambda c: c["policies"].pop("critical"))
    assert errors["policies.critical"] == "severity “critical” has no response policy"


def test_a_template_with_an_unknown_variable_is_refused():
    def mutate(config):
        config["policies"]["high"]["actions"]["question"]["templates"]["es"][0] = (
            "Hola {cliente}, gracias"
        )

    errors = errors_for(mutate)
    message = errors["policies.high.actions.question.templates.es[0]"]
    assert message.startswith("unknown variable {cliente}")


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda c: c["reach_tiers"].insert(0, {"min_followers": 10, "boost": 1}),
            "reach_tiers[0].min_followers",
        ),
        (lambda c: c["velocity"].update({"spike_factor": 1}), "velocity.spike_factor"),
        (lambda c: c["policies"]["low"].update({"sla_minutes": 5000}), "policies.low.sla_minutes"),
        (lambda c: c["author_flags"].update({"vip": 3}), "author_flags.vip"),
        (
            lambda c: c["keyword_groups"].append(dict(c["keyword_groups"][0])),
            f"keyword_groups[{len(default_config()['keyword_groups'])}].key",
        ),
        (lambda c: c["weights"].update({"base": "five"}), "weights.base"),
        (lambda c: c.pop("lexicons"), "lexicons"),
    ],
)
def test_each_kind_of_mistake_is_named_by_its_field(mutate, path):
    assert path in errors_for(mutate)
