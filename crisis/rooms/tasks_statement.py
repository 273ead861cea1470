"""Celery tasks of the statement slice of crisis rooms (registered by crisis/rooms/tasks.py)."""
