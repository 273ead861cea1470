"""`manage.py export_corrections FOLDER`: triage corrections as a labelled data folder."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crisis.incidents.export import EXPORTED_TASKS, write_corrections_folder


class Command(BaseCommand):
    help = (
        "Write the mentions whose triage class a person corrected as a data folder in the "
        "format of shared/data (complaint/, abuse/, question/), which "
        "`make eval-scoring DATA=FOLDER` reads."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="folder to write (created if missing)")

    def handle(self, *args, folder: str, **options):
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise CommandError(f"not a folder: {target}")
        rows = write_corrections_folder(target, now=timezone.now())
        tasks = ", ".join(EXPORTED_TASKS)
        self.stdout.write(f"{rows} corrected mentions written to {target} ({tasks})")
