"""With production settings from the environment, Django's deployment check is clean."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "h8Zq2v!pL0xW7r@Kc4mN9sT1yB6eF3uJ5aD8gH2kQ0wE7rT4yU1iO9pA6sD3fG5h",
    "ALLOWED_HOSTS": "calma.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://calma.example.org",
    "EMAIL_HOST": "smtp.example.org",
}


# Only what a production process would inherit: no development or test switches.
INHERITED = ("PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL")


def run_deploy_check(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.update(PRODUCTION_ENV | extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warnings_with_production_settings():
    result = run_deploy_check({})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_a_weak_secret_key():
    result = run_deploy_check({"SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr
