"""REQUIRE_SERVICES=1 keeps its word: a missing service fails the run instead of hiding tests."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.servers import ROOT

# One test that needs the services and one that does not.
SERVICES_TEST = "tests/deploy/test_start_scripts.py::test_start_migrate_applies_migrations_and_creates_the_plans"
PLAIN_TEST = "tests/deploy/test_health.py::test_healthz_answers_without_touching_the_database"
E2E_TEST = "tests/e2e/test_dashboard.py"


def run_suite(*targets: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_ENV": "test", "REQUIRE_SERVICES": "1", **environment}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_postgresql_the_run_fails_and_says_why(tmp_path):
    result = run_suite(
        SERVICES_TEST, PLAIN_TEST, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"
    )

    assert result.returncode != 0, result.stdout[-2000:]
    assert "1 passed, 1 error" in result.stdout, result.stdout[-2000:]
    assert "REQUIRE_SERVICES=1, and it needs DATABASE_URL (PostgreSQL)" in result.stdout


def test_with_a_redis_that_does_not_answer_the_run_fails(tmp_path):
    result = run_suite(SERVICES_TEST, REDIS_URL="redis://127.0.0.1:8129/0")

    assert result.returncode != 0, result.stdout[-2000:]
    assert "a Redis answering at REDIS_URL" in result.stdout


def test_without_chromium_the_browser_tests_fail_instead_of_vanishing():
    result = run_suite(E2E_TEST, "-x", SKYWATCH_CHROMIUM="/nonexistent/chromium")

    assert result.returncode != 0, result.stdout[-2000:]
    assert "/nonexistent/chromium is missing" in result.stdout


def test_without_require_services_the_same_tests_are_skipped(tmp_path):
    result = run_suite(
        SERVICES_TEST,
        PLAIN_TEST,
        REQUIRE_SERVICES="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed, 1 skipped" in result.stdout
