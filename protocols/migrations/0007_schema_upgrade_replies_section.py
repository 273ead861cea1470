"""Schema upgrade: publish a new active protocol version carrying the replies section (at its
defaults), so installations whose active version predates it keep validating. Audited as the
system. Drafts are upgraded in place (they are still editable)."""

from django.db import migrations

from protocols.schema import REPLIES_UPGRADE_NOTES, publish_upgraded_active_version


def publish_with_replies_section(apps, schema_editor) -> None:
    publish_upgraded_active_version(apps, REPLIES_UPGRADE_NOTES)


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0005_capability_supervise_incidents_manage_teams"),
        ("protocols", "0006_one_open_suggestion_per_topic"),
    ]

    operations = [
        migrations.RunPython(publish_with_replies_section, migrations.RunPython.noop),
    ]
