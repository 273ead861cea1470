"""The embedded default (`make run` with no services): SQLite and the filesystem broker.

The suite itself runs on Postgres and Redis only; this test runs the product's own
commands in a subprocess configured like a fresh machine, to prove the quick start works.
"""

import json
import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import json
from datetime import datetime, timezone
from django.conf import settings
from django.db import connection
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import Mention
from protocols.models import MentionScore
from protocols.pipeline import score_and_store
from protocols.services import active_version

mentions = [
    MentionIn(platform="mastodon", external_id=str(n), url="https://m.example/%d" % n,
              text=text, published_at=datetime(2026, 11, 1, 9, n, tzinfo=timezone.utc),
              author=AuthorIn(handle="ana", followers=None if n else 10))
    for n, text in enumerate(["Me han cobrado dos veces, pésimo", "Gracias por todo, genial"])
]
ids = ingest_mentions(mentions, source_id=None).new_mention_ids
again = ingest_mentions(mentions, source_id=None).new_mention_ids
score_and_store(ids, version=active_version())
print(json.dumps({
    "vendor": connection.vendor,
    "broker": settings.CELERY_BROKER_URL,
    "new": len(ids), "again": len(again),
    "mentions": Mention.objects.count(), "scores": MentionScore.objects.count(),
    "followers": Mention.objects.get(external_id="1").author.followers,
}))
"""


def test_the_embedded_default_migrates_ingests_and_scores_without_services(tmp_path):
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update({"DEBUG": "true", "CALMA_VAR_DIR": str(tmp_path)})

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    manage("migrate", "--noinput")
    result = json.loads(manage("shell", "-c", SCRIPT).stdout.strip().splitlines()[-1])
    assert result == {
        "vendor": "sqlite",
        "broker": "filesystem://",
        "new": 2,
        "again": 0,
        "mentions": 2,
        "scores": 2,
        "followers": 10,
    }
    assert (tmp_path / "calma.sqlite3").exists()
