"""Celery tasks of the compensation slice of replies (registered through crisis/replies/tasks.py)."""
