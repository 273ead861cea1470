"""Suite-wide fixtures: the suite refuses to run anywhere but on Postgres and Redis."""

import pytest
import redis
from django.conf import settings
from django.utils import translation

from crisis.roles import Role
from tests.factories import UserFactory


def pytest_configure(config: pytest.Config) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or not settings.REDIS_URL:
        raise pytest.UsageError(
            "The test suite runs on real PostgreSQL and Redis only. Set DATABASE_URL and "
            "REDIS_URL (`make test` does, for 127.0.0.1:5432 and :6379)."
        )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every factory user and real sign-in hashes a password: the production hasher's
    deliberate slowness (hundreds of ms each on this machine) would dominate the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A test that serves a Spanish page leaves Spanish active in its thread; the next test
    in the same process must start from the default language, as a fresh request does."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def manager(db):
    return UserFactory(username="cm", role=Role.COMMUNITY_MANAGER)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="boss", role=Role.SUPERVISOR)


@pytest.fixture
def executive(db):
    return UserFactory(username="exec", role=Role.EXECUTIVE)


@pytest.fixture
def administrator(db):
    return UserFactory(username="root-admin", role=Role.ADMIN)


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def celery_worker(transactional_db, redis_client):
    """A real Celery worker (solo pool, in a thread) consuming from Redis."""
    from celery.contrib.testing.worker import start_worker

    from crisis.celery import app

    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ) as worker:
        yield worker


@pytest.fixture(scope="session", autouse=True)
def _end_stray_test_database_sessions(django_db_setup, django_db_blocker):
    """Threads that served tests (live server, Celery worker) may leave a connection behind;
    end them so the test database can be dropped at the end of the run."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
