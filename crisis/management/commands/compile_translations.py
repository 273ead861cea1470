"""Compile the .po catalogues into .mo files without needing GNU gettext installed."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    requires_system_checks = []  # runs at install, before the project is configured
    help = "Compile every locale/*/LC_MESSAGES/*.po into its .mo (pure Python, via polib)."

    def handle(self, *args, **options) -> None:
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                catalogue = polib.pofile(str(po_path))
                catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(
                    f"compiled {po_path} ({catalogue.percent_translated()}% translated)"
                )
