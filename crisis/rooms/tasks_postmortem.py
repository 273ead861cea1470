"""Celery tasks of the postmortem slice of crisis rooms (registered by crisis/rooms/tasks.py)."""
