"""Celery tasks of the sending slice of replies (registered through crisis/replies/tasks.py)."""
