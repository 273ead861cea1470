"""Backfill for 0003: topics of every scored mention, the velocity its score used, existing
scores marked as handed off, and duplicate open crisis suggestions dismissed (newest stays open).

Chunked and not atomic as a whole: each chunk commits on its own and every step is idempotent,
so an interrupted migration simply runs again.
"""

from django.db import migrations, transaction
from django.db.models import Max

CHUNK = 2000


def backfill_topics(apps, schema_editor):
    from protocols.topics import topics_for  # the one definition, also for stored rows

    MentionScore = apps.get_model("protocols", "MentionScore")
    MentionTopic = apps.get_model("protocols", "MentionTopic")
    last = 0
    while True:
        scores = list(
            MentionScore.objects.filter(mention_id__gt=last)
            .order_by("mention_id")
            .values_list(
                "mention_id",
                "matched_groups",
                "mention__text",
                "mention__published_at",
                "mention__origin",
            )[:CHUNK]
        )
        if not scores:
            return
        rows = [
            MentionTopic(mention_id=mention_id, topic=topic, published_at=published, origin=origin)
            for mention_id, groups, text, published, origin in scores
            for topic in topics_for(text, groups or ())
        ]
        with transaction.atomic():
            MentionTopic.objects.bulk_create(rows, ignore_conflicts=True)
        last = scores[-1][0]


def velocity_of(signals) -> tuple[float, str]:
    """The factor and topic a stored score's spike signal recorded (1.0 when it had none)."""
    for signal in signals or ():
        if signal.get("name") == "velocity":
            params = signal.get("params") or {}
            return float(params.get("factor") or 1.0), str(params.get("topic") or "")[:200]
    return 1.0, ""


def backfill_velocity_and_hand_off(apps, schema_editor):
    MentionScore = apps.get_model("protocols", "MentionScore")
    # Scores stored before the incident stage existed are not sent to it: a deploy must not
    # open days-old incidents with their SLA long breached.
    last = 0
    while True:
        scores = list(
            MentionScore.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "signals", "scored_at", "handed_off_at")[:CHUNK]
        )
        if not scores:
            return
        for score in scores:
            score.velocity_factor, score.velocity_topic = velocity_of(score.signals)
            score.handed_off_at = score.handed_off_at or score.scored_at
        with transaction.atomic():
            MentionScore.objects.bulk_update(
                scores, ["velocity_factor", "velocity_topic", "handed_off_at"]
            )
        last = scores[-1].pk


def dismiss_duplicate_open_suggestions(apps, schema_editor):
    CrisisSuggestion = apps.get_model("protocols", "CrisisSuggestion")
    open_suggestions = CrisisSuggestion.objects.filter(dismissed_at__isnull=True)
    newest = open_suggestions.values("topic", "origin").annotate(keep=Max("pk"))
    keep = {row["keep"] for row in newest}
    with transaction.atomic():
        for suggestion in open_suggestions.exclude(pk__in=keep):
            suggestion.dismissed_at = suggestion.raised_at
            suggestion.dismiss_reason = "A newer suggestion on the same topic was open."
            suggestion.save(update_fields=["dismissed_at", "dismiss_reason"])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("protocols", "0004_schema_upgrade_incident_sections")]

    operations = [
        migrations.RunPython(backfill_topics, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(
            backfill_velocity_and_hand_off, migrations.RunPython.noop, elidable=True
        ),
        migrations.RunPython(
            dismiss_duplicate_open_suggestions, migrations.RunPython.noop, elidable=True
        ),
    ]
