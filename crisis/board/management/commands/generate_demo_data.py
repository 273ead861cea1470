"""Fill the database with demo data for the board and its benchmark (crisis.board.demo_data)."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from crisis.board.demo_data import DemoDataExists, generate

MAX_DAYS = 366


class Command(BaseCommand):
    help = (
        "Generate live demo data over the last days: mentions with scores and topics, authors, "
        "incidents and active crises, then rebuild the board's rollups. Postgres is filled "
        "with COPY (a million mentions in minutes); other databases with bulk inserts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mentions", type=int, default=100_000)
        parser.add_argument("--incidents", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=30, help="how far back the data goes")
        parser.add_argument("--seed", type=int, default=7, help="same seed, same data")
        parser.add_argument("--replace", action="store_true", help="delete earlier demo data first")

    def handle(self, *args, **options) -> None:
        mentions, incidents, days = options["mentions"], options["incidents"], options["days"]
        if mentions < 1:
            raise CommandError("--mentions must be at least 1.")
        if not 0 <= incidents <= mentions:
            raise CommandError("--incidents must be between 0 and --mentions (one per mention).")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        started = time.perf_counter()
        try:
            totals = generate(
                mentions=mentions,
                incidents=incidents,
                days=days,
                seed=options["seed"],
                replace=options["replace"],
                progress=self.stdout.write if options["verbosity"] > 1 else self._quiet,
            )
        except DemoDataExists as exists:
            raise CommandError(
                f"The database already holds {exists.args[0]:,} demo mentions (external ids "
                "starting with 'demo-'). Run again with --replace to delete them and generate "
                "new ones."
            ) from exists
        took = time.perf_counter() - started
        how = "COPY" if connection.vendor == "postgresql" else "bulk inserts"
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {totals.mentions:,} mentions ({totals.scores:,} scores, "
                f"{totals.topics:,} topics) by {totals.authors:,} authors, "
                f"{totals.incidents:,} incidents ({totals.open_incidents:,} open), "
                f"{totals.crises} active crises ({totals.crisis_links:,} incidents linked), "
                f"{totals.surge_alerts} surge alerts "
                f"over the last {days} days with {how} in {totals.seconds['write']:.1f} s; "
                f"rollups rebuilt for {totals.rollup_hours:,} hours in "
                f"{totals.seconds['rollups']:.1f} s; ANALYZE {totals.seconds['analyze']:.1f} s; "
                f"{took:.1f} s in all."
            )
        )

    def _quiet(self, _line: str) -> None:
        """Progress lines only with -v 2: a plain run prints its summary alone."""
