"""Protocol sections can grow: upgrade() fills sections a version lacks, the migration publishes
an upgraded active version (audited), and validation requires the new sections."""

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from crisis.models import AuditEvent
from protocols import services
from protocols.defaults import default_config
from protocols.models import ProtocolStatus, ProtocolVersion
from protocols.schema import ADDED_SECTIONS, upgrade
from protocols.validation import validate_config

MIGRATION = importlib.import_module("protocols.migrations.0004_schema_upgrade_incident_sections")


def _old_config() -> dict:
    """A protocol document as written before the incident sections existed."""
    config = default_config()
    for section in ADDED_SECTIONS:
        del config[section]
    return config


def _install_old_active_version() -> ProtocolVersion:
    ProtocolVersion.objects.all().delete()
    return ProtocolVersion.objects.create(
        number=3, name="Ours", status=ProtocolStatus.ACTIVE, config=_old_config()
    )


def test_the_shipped_protocol_validates_with_the_new_sections():
    assert validate_config(default_config()) == []


def test_validation_refuses_a_version_without_the_new_sections():
    paths = {error.path for error in validate_config(_old_config())}
    assert paths == set(ADDED_SECTIONS)


def test_upgrade_adds_the_missing_sections_with_their_defaults():
    upgraded = upgrade(_old_config())
    assert validate_config(upgraded) == []
    assert upgraded["incidents"]["attach_window_minutes"] == 240
    assert upgraded["sla"] == {"warn_at_fraction": 0.8, "handback_on_breach": True}


def test_upgrade_keeps_a_section_the_version_already_has():
    config = default_config()
    config["incidents"]["attach_window_minutes"] = 30
    assert upgrade(config)["incidents"]["attach_window_minutes"] == 30


def test_upgrade_does_not_change_the_document_it_is_given():
    config = _old_config()
    upgrade(config)
    assert "incidents" not in config


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("incidents", "attach_window_minutes", -1),
        ("incidents", "attach_window_minutes", 1.5),
        ("incidents", "open_severities", ["urgent"]),
        ("incidents", "open_classes", ["question", "question"]),
        ("incidents", "open_low_classes", "question"),
        ("routing", "max_open_per_manager", 0),
        ("routing", "alert_supervisors_severities", ["loud"]),
        ("routing", "alert_groups", ["Not A Key"]),
        ("routing", "handback_on_shift_end", "yes"),
        ("sla", "warn_at_fraction", 1),
        ("sla", "handback_on_breach", 1),
    ],
)
def test_validation_names_the_field_of_a_bad_new_setting(section, field, value):
    config = default_config()
    config[section][field] = value
    paths = {error.path.split("[")[0] for error in validate_config(config)}
    assert paths == {f"{section}.{field}"}


@pytest.mark.django_db
def test_the_migration_publishes_an_upgraded_active_version_audited_as_the_system():
    old = _install_old_active_version()
    MIGRATION.publish_with_incident_sections(django_apps, None)
    active = services.active_version()
    assert (active.number, active.based_on, active.config) == (4, old, upgrade(old.config))
    old.refresh_from_db()
    assert old.status == ProtocolStatus.ARCHIVED
    assert old.config == _old_config()  # the archived version is unchanged
    event = AuditEvent.objects.get(verb="protocol.schema_upgrade")
    assert (event.actor, event.actor_label, event.object_id) == (None, "system", str(active.pk))
    assert event.after == {"active": 4, "added_sections": list(ADDED_SECTIONS)}


@pytest.mark.django_db
def test_the_migration_changes_nothing_when_the_active_version_is_current():
    MIGRATION.publish_with_incident_sections(django_apps, None)
    assert ProtocolVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(verb="protocol.schema_upgrade").exists()


@pytest.mark.django_db
def test_the_migration_upgrades_an_old_draft_in_place():
    _install_old_active_version()
    draft = ProtocolVersion.objects.create(number=5, name="Draft", config=_old_config())
    MIGRATION.publish_with_incident_sections(django_apps, None)
    draft.refresh_from_db()
    assert (draft.status, validate_config(draft.config)) == (ProtocolStatus.DRAFT, [])


@pytest.mark.django_db
def test_a_draft_of_an_old_version_carries_the_new_sections(supervisor):
    old = _install_old_active_version()
    draft = services.create_draft(actor=supervisor, based_on=old)
    assert validate_config(draft.config) == []


@pytest.mark.django_db
def test_an_old_draft_activates_with_the_new_sections(supervisor):
    _install_old_active_version()
    draft = ProtocolVersion.objects.create(number=5, name="Draft", config=_old_config())
    services.activate(actor=supervisor, version=draft)
    assert services.active_version().config == upgrade(_old_config())


@pytest.mark.django_db
def test_a_supervisor_edits_a_new_section_as_json(supervisor, client):
    draft = services.create_draft(actor=supervisor)
    client.force_login(supervisor)
    section = {**default_config()["incidents"], "attach_window_minutes": 60}
    response = client.post(
        reverse("protocols:edit_section", args=[draft.pk, "incidents"]),
        {"value": json.dumps(section)},
    )
    draft.refresh_from_db()
    assert response.status_code == 302
    assert draft.config["incidents"]["attach_window_minutes"] == 60


@pytest.mark.django_db
def test_the_version_page_shows_the_new_sections_in_words(supervisor, client):
    client.force_login(supervisor)
    response = client.get(reverse("protocols:detail", args=[services.active_version().pk]))
    page = response.content.decode()
    assert "Severities that open an incident" in page
    assert "Medium, High, Critical" in page
    assert "Back to routing on a breach" in page


REPLIES_MIGRATION = importlib.import_module(
    "protocols.migrations.0007_schema_upgrade_replies_section"
)


@pytest.mark.django_db
def test_the_replies_migration_adds_only_the_replies_section_with_its_own_notes():
    ProtocolVersion.objects.all().delete()
    config = default_config()
    config["sla"]["warn_at_fraction"] = 0.5  # the organisation's own setting survives
    del config["replies"]
    old = ProtocolVersion.objects.create(
        number=7, name="Ours", status=ProtocolStatus.ACTIVE, config=config
    )
    REPLIES_MIGRATION.publish_with_replies_section(django_apps, None)
    active = services.active_version()
    assert active.number == 8 and active.based_on == old
    assert active.config["sla"]["warn_at_fraction"] == 0.5
    assert active.config["replies"] == default_config()["replies"]
    assert validate_config(active.config) == []
    assert "replies section" in active.notes
    event = AuditEvent.objects.get(verb="protocol.schema_upgrade")
    assert event.after == {"active": 8, "added_sections": ["replies"]}
