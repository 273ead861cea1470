"""Celery tasks of the crises slice of crisis rooms (registered by crisis/rooms/tasks.py)."""
