"""Calma's Django project and its case-work app (incidents, crises, roles, audit)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
