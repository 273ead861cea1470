"""Schema upgrade: publish a new active protocol version carrying the crisis section (at its
defaults), so installations whose active version predates it keep validating. Audited as the
system. Drafts are upgraded in place (they are still editable)."""

from django.db import migrations

from protocols.schema import CRISIS_UPGRADE_NOTES, publish_upgraded_active_version


def publish_with_crisis_section(apps, schema_editor) -> None:
    publish_upgraded_active_version(apps, CRISIS_UPGRADE_NOTES)


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0006_capability_replies"),
        ("protocols", "0007_schema_upgrade_replies_section"),
    ]

    operations = [
        migrations.RunPython(publish_with_crisis_section, migrations.RunPython.noop),
    ]
