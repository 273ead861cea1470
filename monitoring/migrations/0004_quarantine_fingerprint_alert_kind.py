"""Quarantined items get a fingerprint, unique among pending ones per source; source alerts
get a kind (one open alert per source and kind) and a running count of dropped items.

Existing rows are backfilled in chunks (bounded memory, whatever the table holds); among
pending duplicates the newest stays pending and the others are marked discarded, so the
constraints (0005, in a transaction of its own: Postgres cannot build an index on a table
with pending trigger events from this one's updates) can be created.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, F, Q, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from monitoring.fingerprints import quarantine_fingerprint

CHUNK = 500
PENDING = "pending"
DISCARDED = "discarded"
DUPLICATE_NOTE = " [discarded by migration 0004: the same item is waiting for review]"
# How the quarantine-full message began before alerts had a kind, in each catalogue.
QUARANTINE_FULL_PREFIXES = ("Quarantine full", "Cuarentena llena")


def backfill_fingerprints(apps, schema_editor) -> None:
    QuarantinedItem = apps.get_model("monitoring", "QuarantinedItem")
    last_pk = 0
    while True:
        # Keyset pages: each holds at most CHUNK payloads in memory.
        chunk = list(
            QuarantinedItem.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "platform", "raw")[:CHUNK]
        )
        if not chunk:
            return
        for item in chunk:
            item.fingerprint = quarantine_fingerprint(item.platform, item.raw)
        QuarantinedItem.objects.bulk_update(chunk, ["fingerprint"])
        last_pk = chunk[-1].pk


def discard_pending_duplicates(apps, schema_editor) -> None:
    QuarantinedItem = apps.get_model("monitoring", "QuarantinedItem")
    now = timezone.now()
    groups = (
        QuarantinedItem.objects.filter(status=PENDING)
        .values("source_id", "fingerprint")
        .annotate(copies=Count("pk"))
        .filter(copies__gt=1)
        .order_by()
    )
    # A server-side cursor on Postgres; SQLite gives no isolation between a cursor and writes
    # on one connection, so there the (small, embedded) list is read first.
    if schema_editor.connection.vendor == "postgresql":
        groups = groups.iterator(chunk_size=CHUNK)
    else:
        groups = list(groups)
    for group in groups:
        copies = QuarantinedItem.objects.filter(
            status=PENDING,
            fingerprint=group["fingerprint"],
            source_id=group["source_id"],  # None filters IS NULL
        )
        newest = copies.order_by("-received_at", "-pk").values_list("pk", flat=True).first()
        copies.exclude(pk=newest).update(
            status=DISCARDED,
            resolved_at=now,
            reason=Concat(F("reason"), Value(DUPLICATE_NOTE), output_field=TextField()),
        )


def classify_alerts(apps, schema_editor) -> None:
    SourceAlert = apps.get_model("monitoring", "SourceAlert")
    quarantine_full = Q()
    for prefix in QUARANTINE_FULL_PREFIXES:
        quarantine_full |= Q(message__startswith=prefix)
    SourceAlert.objects.filter(quarantine_full).update(kind="quarantine_full")


def forwards(apps, schema_editor) -> None:
    backfill_fingerprints(apps, schema_editor)
    discard_pending_duplicates(apps, schema_editor)
    classify_alerts(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0003_mention_ingested_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="sourcealert",
            name="one_open_alert_per_source",
        ),
        migrations.AddField(
            model_name="quarantineditem",
            name="fingerprint",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="fingerprint"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="sourcealert",
            name="dropped_count",
            field=models.PositiveBigIntegerField(default=0, verbose_name="items dropped"),
        ),
        migrations.AddField(
            model_name="sourcealert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("polling_failing", "Polling failing"),
                    ("quarantine_full", "Quarantine full"),
                ],
                default="polling_failing",
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
