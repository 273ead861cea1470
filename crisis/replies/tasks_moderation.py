"""Celery tasks of the moderation slice of replies (registered through crisis/replies/tasks.py)."""
