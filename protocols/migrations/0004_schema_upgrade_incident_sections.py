"""Schema upgrade: publish a new active protocol version carrying the incident, routing and SLA
sections (at their defaults), so installations whose active version predates them keep
validating and the incident stage reads the organisation's own settings. Audited as the
system. Drafts are upgraded in place (they are still editable)."""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

from protocols.schema import UPGRADE_NOTES, missing_sections, upgrade


def upgrade_drafts(ProtocolVersion) -> None:
    for draft in ProtocolVersion.objects.filter(status="draft"):
        if missing_sections(draft.config):
            draft.config = upgrade(draft.config)
            draft.save(update_fields=["config", "updated_at"])


def publish_upgraded_active_version(apps, schema_editor) -> None:
    ProtocolVersion = apps.get_model("protocols", "ProtocolVersion")
    AuditEvent = apps.get_model("crisis", "AuditEvent")
    now = timezone.now()  # a migration is an outermost caller
    upgrade_drafts(ProtocolVersion)
    active = ProtocolVersion.objects.filter(status="active").first()
    if active is None or not missing_sections(active.config):
        return  # a fresh installation gets the full shipped protocol after migrate
    added = missing_sections(active.config)
    number = ProtocolVersion.objects.aggregate(top=Max("number"))["top"] + 1
    # Archive first: at most one active version (exactly_one_active_protocol).
    ProtocolVersion.objects.filter(pk=active.pk).update(status="archived", archived_at=now)
    upgraded = ProtocolVersion.objects.create(
        number=number,
        name=active.name,
        notes=UPGRADE_NOTES,
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
        ("crisis", "0002_audit_event_append_only"),
        ("protocols", "0003_topics_handoff_and_suggestion_origin"),
    ]

    operations = [
        migrations.RunPython(publish_upgraded_active_version, migrations.RunPython.noop),
    ]
