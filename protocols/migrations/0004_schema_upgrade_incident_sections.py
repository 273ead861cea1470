"""Schema upgrade: publish a new active protocol version carrying the incident, routing and SLA
sections (at their defaults), so installations whose active version predates them keep
validating and the incident stage reads the organisation's own settings. Audited as the
system. Drafts are upgraded in place (they are still editable)."""

from django.db import migrations

from protocols.schema import UPGRADE_NOTES, publish_upgraded_active_version


def publish_with_incident_sections(apps, schema_editor) -> None:
    publish_upgraded_active_version(apps, UPGRADE_NOTES)


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0002_audit_event_append_only"),
        ("protocols", "0003_topics_handoff_and_suggestion_origin"),
    ]

    operations = [
        migrations.RunPython(publish_with_incident_sections, migrations.RunPython.noop),
    ]
