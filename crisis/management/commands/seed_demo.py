"""Create one demo user per role and print their logins."""

from django.core.management.base import BaseCommand

from crisis.demo import create_demo_users


class Command(BaseCommand):
    help = "Create (or reset) one demo user per role and print their logins."

    def handle(self, *args, **options) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (one per role):"))
        for login in create_demo_users():
            self.stdout.write(
                f"  {login.role.label:<20} user: {login.username:<12} password: {login.password}"
            )
