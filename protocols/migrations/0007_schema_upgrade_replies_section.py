"""Schema upgrade: publish a new active protocol version carrying the replies section (at its
defaults), so installations whose active version predates it keep validating. Audited as the
system. Drafts are upgraded in place (they are still editable)."""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

from protocols.schema import REPLIES_UPGRADE_NOTES, missing_sections, upgrade


def publish_upgraded_active_version(apps, schema_editor) -> None:
    ProtocolVersion = apps.get_model("protocols", "ProtocolVersion")
    AuditEvent = apps.get_model("crisis", "AuditEvent")
    now = timezone.now()  # a migration is an outermost caller
    for draft in ProtocolVersion.objects.filter(status="draft"):
        if missing_sections(draft.config):
            draft.config = upgrade(draft.config)
            draft.save(update_fields=["config", "updated_at"])
    active = ProtocolVersion.objects.filter(status="active").first()
    if active is None or not missing_sections(active.config):
        return
    added = missing_sections(active.config)
    number = ProtocolVersion.objects.aggregate(top=Max("number"))["top"] + 1
    ProtocolVersion.objects.filter(pk=active.pk).update(status="archived", archived_at=now)
    upgraded = ProtocolVersion.objects.create(
        number=number,
        name=active.name,
        notes=REPLIES_UPGRADE_NOTES,
        status="active",
        config=upgrade(active.config),
        based_on=active,
        created_at=now,
        activated_at=now,
    )
    AuditEvent.objects.create(
        occurred_at=now,
        actor=None,
        actor_label="system",
        verb="protocol.schema_upgrade",
        object_type="protocols.protocolversion",
        object_id=str(upgraded.pk),
        object_repr=f"v{upgraded.number} · {upgraded.name}"[:200],
        before={"active": active.number},
        after={"active": upgraded.number, "added_sections": added},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0005_capability_supervise_incidents_manage_teams"),
        ("protocols", "0006_one_open_suggestion_per_topic"),
    ]

    operations = [
        migrations.RunPython(publish_upgraded_active_version, migrations.RunPython.noop),
    ]
