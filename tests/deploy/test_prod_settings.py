"""DJANGO_ENV=prod: check --deploy is clean, a missing variable is named, logs are JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "prod-settings-test-key-" + "k3Y9" * 12


def run_prod(tmp_path: Path, *args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    """manage.py under prod settings with the required variables, unless overridden."""
    env = {
        **os.environ,
        "DJANGO_ENV": "prod",
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_ALLOWED_HOSTS": "skywatch.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://skywatch.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    for name in ("REDIS_URL", "SENTRY_DSN"):
        env.pop(name, None)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_at_warning_level(tmp_path):
    result = run_prod(tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_weak_secret_key(tmp_path):
    result = run_prod(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY="short"
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_start_up_names_a_missing_required_variable(tmp_path, missing):
    result = run_prod(tmp_path, "check", **{missing: None})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set when DJANGO_ENV=prod" in result.stderr


def test_start_up_names_every_missing_variable_at_once(tmp_path):
    result = run_prod(tmp_path, "check", DJANGO_SECRET_KEY=None, DATABASE_URL=None)

    assert "DJANGO_SECRET_KEY, DATABASE_URL must be set" in result.stderr


PROBE_SCRIPT = (
    "import json, logging; from django.conf import settings as s\n"
    "logging.getLogger('skywatch.test').warning('hello %s', 'json')\n"
    "print(json.dumps({'proxy': s.SECURE_PROXY_SSL_HEADER, 'hsts': s.SECURE_HSTS_SECONDS,"
    " 'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],"
    " 'csrf': s.CSRF_TRUSTED_ORIGINS, 'debug': s.DEBUG, 'first_middleware': s.MIDDLEWARE[0]}))"
)


@pytest.fixture(scope="module")
def prod_shell(tmp_path_factory) -> subprocess.CompletedProcess:
    """One prod process that logs a line and prints its security settings."""
    result = run_prod(tmp_path_factory.mktemp("prod"), "shell", "-c", PROBE_SCRIPT)
    assert result.returncode == 0, result.stderr
    return result


def test_prod_logs_one_json_object_per_line(prod_shell):
    record = json.loads(prod_shell.stderr.strip().splitlines()[-1])

    assert record["level"] == "WARNING"
    assert record["logger"] == "skywatch.test"
    assert record["message"] == "hello json"
    assert "time" in record


def test_prod_settings_are_secure_behind_a_proxy(prod_shell):
    values = json.loads(prod_shell.stdout.strip().splitlines()[-1])

    assert values == {
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "hsts": 31536000,
        "cookies": [True, True],
        "csrf": ["https://skywatch.example.com"],
        "debug": False,
        "first_middleware": "skywatch.health.ProbeMiddleware",
    }
