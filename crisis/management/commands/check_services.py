"""Say whether the configured Postgres and Redis answer, and how to start them if not."""

import sys

import redis
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

HOW_TO_START = {
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    "   (or: docker compose up -d postgres)",
    "redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
    "--appendonly no   (or: docker compose up -d redis)",
}


class Command(BaseCommand):
    help = "Check that the database is Postgres and reachable, and that Redis answers."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--require-postgres",
            action="store_true",
            help="Fail unless the database is PostgreSQL (the test suite never runs on SQLite).",
        )

    def handle(self, *args, require_postgres: bool = False, **options) -> None:
        problems = []
        if require_postgres and connection.vendor != "postgresql":
            problems.append(("postgres", "DATABASE_URL does not point at PostgreSQL"))
        try:
            connection.ensure_connection()
        except Exception as error:
            problems.append(("postgres", f"cannot connect to the database: {error}"))
        if settings.REDIS_URL:
            try:
                redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
            except redis.RedisError as error:
                problems.append(("redis", f"cannot reach Redis at {settings.REDIS_URL}: {error}"))
        elif require_postgres:
            problems.append(("redis", "REDIS_URL is not set"))
        for service, message in problems:
            self.stderr.write(self.style.ERROR(f"{service}: {message}"))
            self.stderr.write(f"  start it with: {HOW_TO_START[service]}")
        if problems:
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("services ok"))
