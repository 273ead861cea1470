"""Celery tasks of the plan slice of crisis rooms (registered by crisis/rooms/tasks.py)."""
