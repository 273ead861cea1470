"""Mention.origin gets a database default too: ingest inserts mentions with its own SQL."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0006_mention_origin"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mention",
            name="origin",
            field=models.CharField(
                db_default="live",
                db_index=True,
                default="live",
                max_length=40,
                verbose_name="origin",
            ),
        ),
    ]
