"""Create one demo user per role and print their logins."""

from django.conf import settings
from django.core.management.base import BaseCommand

from crisis.demo import (
    create_demo_legal_reviewer,
    create_demo_publishing_accounts,
    create_demo_team,
    create_demo_users,
)
from monitoring.demo import create_demo_sources, simulator_channel_id


class Command(BaseCommand):
    help = (
        "Create (or reset) one demo user per role and print their logins; with SIMULATOR_URL "
        "set, also one demo source per platform pointing at the platform simulator."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (one per role):"))
        for login in create_demo_users():
            self.stdout.write(
                f"  {login.role.label:<20} user: {login.username:<12} password: {login.password}"
            )
        legal = create_demo_legal_reviewer()
        self.stdout.write(
            f"  {'Legal reviewer':<20} user: {legal.username:<12} password: {legal.password}"
            "  (a supervisor who gives the legal approval)"
        )
        team = create_demo_team()
        self.stdout.write(f"  Team {team.name!r}: on shift around the clock, the manager in it")
        if settings.SIMULATOR_URL:
            sources = create_demo_sources(settings.SIMULATOR_URL, simulator_channel_id())
            heading = f"Demo sources ({len(sources)}) polling {settings.SIMULATOR_URL}"
            self.stdout.write(self.style.MIGRATE_HEADING(heading))
            accounts = create_demo_publishing_accounts(sources)
            self.stdout.write(
                f"  {len(accounts)} publishing accounts answer on the simulator "
                "(approved replies are posted there)"
            )
