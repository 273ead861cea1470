"""The bell counts a drill's notifications for its participants: the unread index no longer
requires origin "live"; a run's rows stored unread before (no one saw them) are marked read
and kept out of Calma, as a non-participant's are now born."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def runs_rows_read(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.exclude(origin="live").filter(read_at__isnull=True).update(
        read_at=F("created_at"), in_app=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_daily_digest_kind"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(runs_rows_read, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="notification",
            name="notification_unread_live",
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("read_at__isnull", True)),
                fields=["user"],
                name="notification_unread",
            ),
        ),
    ]
