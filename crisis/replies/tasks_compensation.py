"""Celery tasks of the compensation slice of replies (registered by crisis/replies/tasks.py)."""
