"""Celery tasks of the private slice of replies (registered through crisis/replies/tasks.py)."""
