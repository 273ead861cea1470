"""Celery tasks of replies: Celery's autodiscovery imports this module, which imports each
slice's task module (each task is named `crisis.replies.tasks.<name>`)."""

from crisis.replies import (  # noqa: F401
    tasks_compensation,
    tasks_drafts,
    tasks_moderation,
    tasks_private,
    tasks_sending,
)
