"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

app = Celery("calma")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def process_label() -> str:
    """``"worker | "`` under `make run`'s process manager, which names each process."""
    name = os.environ.get("CALMA_PROCESS_NAME", "")
    return f"{name} | " if name else ""


@app.on_after_configure.connect
def label_log_lines(sender: Celery, **kwargs) -> None:
    """supervisord prints every process's output to one terminal: each line says whose."""
    sender.conf.worker_log_format = process_label() + sender.conf.worker_log_format
    sender.conf.worker_task_log_format = process_label() + sender.conf.worker_task_log_format


@task_prerun.connect
def forget_logged_queries(**_signal_kwargs) -> None:
    """With DEBUG on (`make run` sets it), Django keeps each connection's last 9,000 queries
    for the debug page and empties the log only when a web request starts; a worker runs for
    days, serves no page, and its bulk inserts make long SQL, so it empties it per task."""
    from django.db import reset_queries

    reset_queries()
