"""`replay_mentions FILE.csv [--speed N]`: play a file of mentions as a run, printing its events."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.drills.replay import (
    MAX_SCENARIO_BYTES,
    Player,
    ReplayEvent,
    ScenarioError,
    run_for,
    scenario_from_csv,
)
from protocols.models import ProtocolVersion, Run, RunKind

# Rows played between two flushes of the output when there is no speed to keep.
CHUNK_ROWS = 200
# At a speed, the longest wait between two rows: a longer silence in the scenario (a night,
# a collection gap) is shortened to this, so a replay never sits idle for hours.
MAX_WAIT_SECONDS = 300.0


class Command(BaseCommand):
    help = (
        "Play a CSV of mentions (the import format) as a replay run through the live path "
        "(ingest, scoring, incidents, surge detector, crisis rule) with the clock at each "
        "row's time; prints one tab-separated line per event, then a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file in the import format")
        parser.add_argument(
            "--speed",
            type=float,
            default=None,
            help="scenario seconds per wall second (60: an hour in a minute); "
            "default: as fast as it can",
        )
        parser.add_argument("--label", default="", help="a name for the run")

    def handle(self, *args, **options) -> None:
        speed = options["speed"]
        if speed is not None and not 0 < speed <= 1e9:
            raise CommandError(_("--speed must be a number above 0"))
        scenario = self._scenario(options["file"])
        for error in scenario.errors:
            self.stderr.write(str(error))
        run, _created = run_for(
            scenario, kind=RunKind.REPLAY, label=options["label"] or Path(options["file"]).name
        )
        try:
            player = Player(run, scenario)
        except ProtocolVersion.DoesNotExist as error:
            raise CommandError(_("no active protocol version to score the mentions")) from error
        self._reported = 0
        try:
            if speed is None:
                while not player.finished:
                    self._print(player.play_until(None, limit=CHUNK_ROWS))
                    self._problems(player)
            else:
                self._play_at(player, speed)
        except KeyboardInterrupt:
            self._problems(player)
            self._summary(player, run)
            raise CommandError(
                _("interrupted; run %(run)s resumes where it stopped: run the same command again")
                % {"run": run.pk},
                returncode=130,
            ) from None
        self._problems(player)
        if player.finished:
            Run.objects.filter(pk=run.pk, finished_at__isnull=True).update(
                finished_at=timezone.now()
            )
        self._summary(player, run)

    def _scenario(self, name: str):
        path = Path(name)
        try:
            if path.stat().st_size > MAX_SCENARIO_BYTES:
                raise CommandError(
                    _("%(file)s is larger than %(limit)s bytes")
                    % {"file": name, "limit": MAX_SCENARIO_BYTES}
                )
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                _("cannot read %(file)s: %(reason)s")
                % {"file": name, "reason": error.strerror or type(error).__name__}
            ) from None
        try:
            return scenario_from_csv(data, now=timezone.now())
        except ScenarioError as error:
            raise CommandError(
                _("%(file)s is not a file of mentions: %(reason)s")
                % {"file": name, "reason": error}
            ) from None

    def _play_at(self, player: Player, speed: float) -> None:
        """Scenario time runs `speed` times as fast as the wall clock; sleeps only between
        rows (a Ctrl-C there leaves the run where it stopped)."""
        first = player.next_time
        started = time.monotonic()
        shortened = 0.0  # wall seconds cut from long silences
        while not player.finished:
            due = player.next_time
            wait = (due - first).total_seconds() / speed - shortened - (time.monotonic() - started)
            if wait > MAX_WAIT_SECONDS:
                shortened += wait - MAX_WAIT_SECONDS
                wait = MAX_WAIT_SECONDS
            if wait > 0:
                time.sleep(wait)
            self._print(player.play_until(due))
            self._problems(player)

    def _print(self, events: list[ReplayEvent]) -> None:
        for event in events:
            self.stdout.write(event.line())
        self.stdout.flush()

    def _problems(self, player: Player) -> None:
        """Rows that could not be played, each once, as they are found."""
        for problem in player.tally.problems[self._reported :]:
            self.stderr.write(str(problem))
        self._reported = len(player.tally.problems)

    def _summary(self, player: Player, run: Run) -> None:
        tally = player.tally
        self.stdout.write(
            _(
                "summary: %(played)s rows played, %(stored)s stored, %(skipped)s skipped as "
                "already played, %(errors)s row errors, %(incidents)s incidents, "
                "%(spikes)s spikes, %(suggestions)s suggestions; run %(run)s"
            )
            % {
                "played": tally.played,
                "stored": tally.stored,
                "skipped": tally.skipped,
                "errors": tally.row_errors,
                "incidents": tally.incidents,
                "spikes": tally.spikes,
                "suggestions": tally.suggestions,
                "run": run.pk,
            }
        )
