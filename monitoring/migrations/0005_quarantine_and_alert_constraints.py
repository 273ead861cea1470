"""The constraints whose rows 0004 prepared: one pending copy of an item per source (and one
among items without a source); one open alert per source and kind."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_quarantine_fingerprint_alert_kind"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="quarantineditem",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source__isnull", False), ("status", "pending")),
                fields=("source", "fingerprint"),
                name="quarantine_one_pending_per_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="quarantineditem",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source__isnull", True), ("status", "pending")),
                fields=("fingerprint",),
                name="quarantine_one_pending_without_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="sourcealert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=("source", "kind"),
                name="one_open_alert_per_source_kind",
            ),
        ),
    ]
