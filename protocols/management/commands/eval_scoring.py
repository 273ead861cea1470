"""`manage.py eval_scoring [DATA_DIR]`: the shipped scorer's quality on labelled data sets."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protocols.evaluation import evaluate_folder


class Command(BaseCommand):
    help = (
        "Score every data set (sub-folder with a data.csv) with the shipped protocol and print "
        "`name lang n accuracy macro_f1` per data set and language."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "data_dir",
            nargs="?",
            default=str(Path(settings.BASE_DIR).parent / "shared" / "data"),
            help="folder of data sets (default: ../shared/data)",
        )
        parser.add_argument(
            "--no-learned",
            action="store_true",
            help="skip the `<name>:learned` 5-fold cross-validation lines",
        )

    def handle(self, *args, data_dir: str, no_learned: bool, **options):
        folder = Path(data_dir)
        if not folder.is_dir():
            raise CommandError(f"not a folder: {folder}")
        for result in evaluate_folder(folder, learned=not no_learned):
            self.stdout.write(result.line())
            self.stdout.flush()
