"""At most one open crisis suggestion per topic and origin (after 0005 dismissed duplicates).

In its own migration: Postgres refuses to build an index on a table with pending trigger
events from a backfill in the same transaction.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("protocols", "0005_backfill_topics_velocity_and_open_suggestions")]

    operations = [
        migrations.AddConstraint(
            model_name="crisissuggestion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("dismissed_at__isnull", True)),
                fields=("topic", "origin"),
                name="one_open_suggestion_per_topic",
            ),
        ),
    ]
