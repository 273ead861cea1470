"""The Celery application: configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

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
