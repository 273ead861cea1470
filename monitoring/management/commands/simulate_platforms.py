"""Run the local platform simulator (Mastodon, Bluesky, Reddit, YouTube, feeds) until stopped."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from monitoring.simulator.server import SimulatorServer
from monitoring.simulator.world import World

# Any key of this shape is accepted by the simulated YouTube API (it is not a real key).
DEMO_YOUTUBE_API_KEY = "AIzaSyCalmaSimulatorDemoKey-000000000000"


class Command(BaseCommand):
    help = (
        "Serve a simulated conversation about the fictitious telecom Brisa in the real APIs' "
        "formats on loopback, with a scripted billing crisis, until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--speed",
            type=float,
            default=60.0,
            help="Simulated seconds per real second (60: one simulated hour per minute).",
        )
        parser.add_argument(
            "--crisis-at-minutes",
            type=float,
            default=30.0,
            help="When the billing crisis starts, in simulated minutes after the start.",
        )
        parser.add_argument("--no-crisis", action="store_true", help="An ordinary day only.")
        parser.add_argument("--hours", type=float, default=6.0, help="Length of the world.")
        parser.add_argument(
            "--chatter-per-hour", type=float, default=60.0, help="Background posts per hour."
        )
        parser.add_argument(
            "--start",
            default="now",
            help="ISO datetime the simulated world begins at (default: now, to the minute).",
        )
        parser.add_argument(
            "--rewind-minutes",
            type=float,
            default=0.0,
            help=(
                "Begin the world this many minutes before --start and set the clock to --start, "
                "so a backlog exists at once (make run uses 25 with --speed 1: the crisis starts "
                "five minutes after launch, with real-time timestamps)."
            ),
        )

    def handle(self, *args: object, **options: object) -> None:
        clock_at = self._start(str(options["start"]))
        start = clock_at - timedelta(minutes=float(options["rewind_minutes"]))
        crisis_at = None if options["no_crisis"] else float(options["crisis_at_minutes"])
        world = World.generate(
            int(options["seed"]),
            start,
            float(options["hours"]),
            float(options["chatter_per_hour"]),
            crisis_at,
        )
        server = SimulatorServer(
            world, str(options["host"]), int(options["port"]), speed=float(options["speed"])
        )
        try:
            base_url = server.start()
        except OSError as error:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {error}"
            ) from error
        if start != clock_at:
            server.set_clock(clock_at)

        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._describe(server, world, base_url)
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.stop()
            self.stdout.write("Platform simulator stopped.")

    def _start(self, value: str) -> datetime:
        if value == "now":
            return timezone.now().replace(second=0, microsecond=0)
        try:
            start = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise CommandError(f"--start: not an ISO datetime: {value!r}") from error
        return start if start.tzinfo else timezone.make_aware(start, timezone.utc)

    def _describe(self, server: SimulatorServer, world: World, base_url: str) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"Platform simulator on {base_url}"))
        write(
            f"  world: seed {world.seed}, {len(world)} posts, {world.start:%Y-%m-%d %H:%M} UTC "
            f"to {world.end:%Y-%m-%d %H:%M} UTC, clock x{server.clock.speed:g}"
        )
        if world.crisis_at:
            write(f"  crisis begins at {world.crisis_at:%H:%M} UTC (simulated)")
        write(
            "  Mastodon  " + server.url("mastodon") + "   (tag: brisa; /api/v1/timelines/tag/brisa)"
        )
        write(
            "  Bluesky   " + server.url("bluesky") + "    (/xrpc/app.bsky.feed.searchPosts?q=brisa)"
        )
        write(
            "  Reddit    "
            + server.url("reddit")
            + "     (/search.json?q=brisa&sort=new, /r/BrisaTelecom/new.json)"
        )
        write(
            "  YouTube   " + server.url("youtube") + f"    (/v3/commentThreads, channel "
            f"{world.channel_id}, key e.g. {DEMO_YOUTUBE_API_KEY})"
        )
        write("  Feeds     " + server.url("feed") + "      (/google-alerts.atom, /talkwalker.rss)")
        write(f"  Control   {base_url}/_control/state   (clock, faults, served)")
        write("Ctrl-C to stop.")
