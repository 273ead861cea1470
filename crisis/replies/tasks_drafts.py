"""Celery tasks of the drafts slice of replies (registered through crisis/replies/tasks.py)."""
