"""Protocol versions: draft → active → archived, exactly one active, immutable once active."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from crisis.models import AuditEvent
from protocols import services
from protocols.diff import diff_configs
from protocols.models import ProtocolIsImmutable, ProtocolStatus, ProtocolVersion
from protocols.validation import validate_config

pytestmark = pytest.mark.django_db


def test_a_fresh_installation_has_the_default_protocol_active():
    active = services.active_version()
    assert active.number == 1
    assert validate_config(active.config) == []


def test_the_database_allows_only_one_active_version():
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolVersion.objects.create(number=99, name="x", status=ProtocolStatus.ACTIVE, config={})


def test_an_active_version_cannot_be_edited(supervisor):
    active = services.active_version()
    active.config = {**active.config, "velocity": {"spike_factor": 9, "boost": 1}}
    with pytest.raises(ProtocolIsImmutable):
        active.save()
    with pytest.raises(services.ProtocolInvalid):
        services.update_draft(actor=supervisor, version=services.active_version(), name="x")


def test_activating_a_draft_archives_the_previous_version_and_is_audited(supervisor):
    draft = services.create_draft(actor=supervisor)
    services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 25, "high": 45, "critical": 75},
    )
    services.activate(actor=supervisor, version=draft)
    versions = dict(ProtocolVersion.objects.values_list("number", "status"))
    assert versions == {1: ProtocolStatus.ARCHIVED, 2: ProtocolStatus.ACTIVE}
    event = AuditEvent.objects.get(verb="protocol.activate")
    assert (event.before, event.after["active"]) == ({"active": [1]}, 2)
    assert event.actor == supervisor


def test_a_community_manager_cannot_edit_or_activate(manager, supervisor):
    draft = services.create_draft(actor=supervisor)
    with pytest.raises(PermissionDenied):
        services.create_draft(actor=manager)
    with pytest.raises(PermissionDenied):
        services.activate(actor=manager, version=draft)


def test_the_diff_names_what_changed(supervisor):
    draft = services.create_draft(actor=supervisor)
    draft = services.update_draft(
        actor=supervisor,
        version=draft,
        section="severity_thresholds",
        value={"medium": 30, "high": 45, "critical": 80},
    )
    changes = diff_configs(services.active_version().config, draft.config)
    assert [(c.path, c.before, c.after) for c in changes] == [("severity_thresholds.high", 55, 45)]


def test_supervisor_edits_a_section_in_the_editor(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "velocity"])
    response = client.post(url, {"spike_factor": "2.5", "boost": "20"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.config["velocity"] == {"spike_factor": 2.5, "boost": 20}


def test_editor_refuses_overlapping_thresholds_naming_the_field(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "severity_thresholds"])
    response = client.post(url, {"medium": "60", "high": "50", "critical": "80"})
    assert response.status_code == 200
    assert "overlaps medium" in str(response.context["form"].errors["high"])
    draft.refresh_from_db()
    assert draft.config["severity_thresholds"]["high"] == 55


def keyword_group_post(groups: list[dict], extra: dict | None = None) -> dict:
    data = {
        "form-TOTAL_FORMS": str(len(groups) + (1 if extra else 0)),
        "form-INITIAL_FORMS": str(len(groups)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, group in enumerate([*groups, *([extra] if extra else [])]):
        for field, value in group.items():
            if field == "patterns":
                value = "\n".join(value)
            if field == "regex":
                if value:
                    data[f"form-{index}-regex"] = "on"
                continue
            data[f"form-{index}-{field}"] = value
    return data


def test_editor_refuses_an_invalid_regex_naming_the_pattern(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    groups = draft.config["keyword_groups"]
    groups[1]["patterns"][0] = "abogad(o"
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "keyword_groups"])
    response = client.post(url, keyword_group_post(groups))
    assert response.status_code == 200
    assert "invalid regular expression" in str(response.context["form"].forms[1].errors["patterns"])
    draft.refresh_from_db()
    assert draft.config["keyword_groups"][1]["patterns"][0] != "abogad(o"


def test_supervisor_adds_a_keyword_group_in_the_editor(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    groups = draft.config["keyword_groups"]
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "keyword_groups"])
    new_group = {
        "key": "roaming",
        "label": "Roaming charges",
        "patterns": ["roaming", "itinerancia"],
        "regex": False,
        "boost": 15,
        "escalation_contact": "billing@brisa.example",
    }
    response = client.post(url, keyword_group_post(groups, extra=new_group))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.config["keyword_groups"][-1] == new_group
    assert len(draft.config["keyword_groups"]) == len(groups) + 1


def test_editor_page_shows_json_syntax_errors_with_their_line(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    url = reverse("protocols:edit_section", args=[draft.pk, "reach_tiers"])
    response = client.post(url, {"value": '[{"min_followers": 0,, "boost": 0}]'})
    assert "line 1" in response.content.decode()


def test_activate_page_lists_the_changes_and_asks_first(client, supervisor):
    draft = services.create_draft(actor=supervisor)
    services.update_draft(
        actor=supervisor, version=draft, section="velocity", value={"spike_factor": 5, "boost": 15}
    )
    client.force_login(supervisor)
    page = client.get(reverse("protocols:activate", args=[draft.pk])).content.decode()
    assert "velocity.spike_factor" in page
    assert services.active_version().number == 1


def test_community_manager_can_read_but_not_edit_the_protocol(client, manager, supervisor):
    draft = services.create_draft(actor=supervisor)
    client.force_login(manager)
    assert client.get(reverse("protocols:detail", args=[draft.pk])).status_code == 200
    url = reverse("protocols:edit_section", args=[draft.pk, "velocity"])
    assert client.get(url).status_code == 403
