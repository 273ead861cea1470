"""Celery tasks of crisis rooms: Celery's autodiscovery imports this module, which imports each
slice's task module (each task is named `crisis.rooms.tasks.<name>`)."""

from crisis.rooms import (  # noqa: F401
    tasks_crises,
    tasks_plan,
    tasks_postmortem,
    tasks_statement,
)
