"""Topics stored per mention, the score's velocity and hand-off time, suggestion origin and dismissal.

The one-open-suggestion constraint comes in 0006, after 0005 has dismissed duplicates.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0006_mention_origin"),
        ("protocols", "0002_severity_and_class_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MentionTopic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("topic", models.CharField(max_length=200, verbose_name="topic")),
                ("published_at", models.DateTimeField(verbose_name="published")),
                ("origin", models.CharField(default="live", max_length=40, verbose_name="origin")),
            ],
            options={
                "verbose_name": "mention topic",
                "verbose_name_plural": "mention topics",
            },
        ),
        migrations.AddField(
            model_name="crisissuggestion",
            name="dismiss_reason",
            field=models.TextField(blank=True, verbose_name="why it was dismissed"),
        ),
        migrations.AddField(
            model_name="crisissuggestion",
            name="dismissed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="dismissed by",
            ),
        ),
        migrations.AddField(
            model_name="crisissuggestion",
            name="origin",
            field=models.CharField(default="live", max_length=40, verbose_name="origin"),
        ),
        migrations.AddField(
            model_name="mentionscore",
            name="handed_off_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="handed off"),
        ),
        migrations.AddField(
            model_name="mentionscore",
            name="velocity_factor",
            field=models.FloatField(default=1.0, verbose_name="velocity factor"),
        ),
        migrations.AddField(
            model_name="mentionscore",
            name="velocity_topic",
            field=models.CharField(blank=True, max_length=200, verbose_name="velocity topic"),
        ),
        migrations.AddIndex(
            model_name="mentionscore",
            index=models.Index(
                condition=models.Q(("handed_off_at__isnull", True)),
                fields=["scored_at"],
                name="score_not_handed_off",
            ),
        ),
        migrations.AddField(
            model_name="mentiontopic",
            name="mention",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="topics",
                to="monitoring.mention",
            ),
        ),
        migrations.AddIndex(
            model_name="mentiontopic",
            index=models.Index(fields=["topic", "published_at"], name="topic_published"),
        ),
        migrations.AddConstraint(
            model_name="mentiontopic",
            constraint=models.UniqueConstraint(
                fields=("mention", "topic"), name="one_row_per_mention_topic"
            ),
        ),
    ]
