"""Celery tasks of the board: Celery's autodiscovery imports this module, which imports each
slice's task module (each task is named `crisis.board.tasks.<name>`)."""

from crisis.board import tasks_digest, tasks_rollups  # noqa: F401
