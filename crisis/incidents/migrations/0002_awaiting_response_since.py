"""Incident.awaiting_response_since: a reopened incident awaits a new first response."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    # Truthful for rows stored before the field: never answered -> awaited since opening;
    # reopened after an answer -> awaited since the reopen (its last activity).
    incident = apps.get_model("incidents", "Incident")
    incident.objects.filter(first_response_at__isnull=True).update(
        awaiting_response_since=models.F("opened_at")
    )
    incident.objects.filter(first_response_at__isnull=False, state="reopened").update(
        awaiting_response_since=models.F("last_activity_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="awaiting_response_since",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="awaiting a response since"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
