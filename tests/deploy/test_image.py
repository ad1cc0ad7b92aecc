"""The image without an engine: the Dockerfile's steps, the entrypoint, compose and .env.example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy import compose_check

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ROLES = ("web", "worker", "beat", "migrate")


def instructions(kind: str) -> list[str]:
    """The arguments of every Dockerfile instruction of one kind, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(kind + " ")]


def test_the_image_is_built_in_two_stages_from_slim_python_311():
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE.splitlines()
    assert instructions("FROM") == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    assert any("--from=builder /opt/venv" in copy for copy in instructions("COPY"))
    assert any("-r /tmp/requirements.txt" in run for run in instructions("RUN"))


def test_the_image_runs_as_a_non_root_user_after_every_build_step():
    lines = DOCKERFILE.splitlines()
    user_line = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert lines[user_line].split()[1].split(":")[0] == "10001"
    assert not any(line.startswith("RUN ") for line in lines[user_line:])


def test_the_entrypoint_picks_the_role_and_web_is_the_default():
    assert instructions("ENTRYPOINT") == ['["/app/docker/entrypoint"]']
    assert instructions("CMD") == ['["web"]']
    assert "PYTHONPATH=/app:/app/platform" in " ".join(instructions("ENV"))


def test_build_time_variables_are_not_left_in_the_image():
    env = " ".join(instructions("ENV"))
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"):
        assert name not in env


def test_collectstatic_succeeds_with_the_build_time_variables(tmp_path):
    run = next(run for run in instructions("RUN") if "collectstatic" in run)
    build_env = dict(re.findall(r"(\w+)=(\S+)", run.split("python manage.py")[0]))
    build_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'collectstatic.sqlite3'}"
    static_root = tmp_path / "staticfiles"
    script = (
        "import sys, django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.test.utils import override_settings\n"
        "with override_settings(STATIC_ROOT=sys.argv[1]):\n"
        "    call_command('collectstatic', interactive=False, verbosity=0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SENTRY_DSN")}
    env.update(build_env, DJANGO_ENV="prod", PYTHONPATH=f"{ROOT}:{ROOT / 'platform'}")

    result = subprocess.run(
        [sys.executable, "-c", script, str(static_root)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    manifest = (static_root / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
    assert list(static_root.glob("admin/css/base.*.css.gz"))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_an_executable_start_script_that_parses(role):
    script = ROOT / "docker" / f"start-{role}"

    assert os.access(script, os.X_OK)
    assert subprocess.run(["/bin/sh", "-n", str(script)], check=False).returncode == 0


def entrypoint(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [str(ROOT / "docker" / "entrypoint"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_entrypoint_hands_web_and_its_arguments_to_uvicorn():
    result = entrypoint("web", "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage: python -m uvicorn" in result.stdout


def test_entrypoint_runs_any_other_command_as_given():
    result = entrypoint("python", "-c", "import platform; print(platform.system())")

    assert result.stdout.strip() == "Linux"


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for entry in (".env", ".venv", ".git", "db.sqlite3*", ".secret_key", "staticfiles"):
        assert entry in ignored
    for needed in ("requirements.txt", "manage.py", "docker", "platform", "templates", "static"):
        assert needed not in ignored


@pytest.fixture
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_follows_the_compose_specification():
    assert compose_check.problems() == []


def test_the_compose_check_finds_a_service_that_breaks_the_specification(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        "services:\n  web:\n    image: skywatch\n    restart: sometimes\n    ports: 8000\n"
    )

    found = compose_check.problems(broken)

    assert any(problem.startswith("$.services.web.ports") for problem in found)


def test_the_pip_ca_secret_and_the_base_argument_are_the_only_build_inputs_besides_the_context():
    runs = " ".join(instructions("RUN"))
    assert "--mount=type=secret,id=pip-ca" in runs
    assert "PIP_CERT=/run/secrets/pip-ca" in runs
    assert [arg.split("=")[0] for arg in instructions("ARG")] == [
        "PYTHON_IMAGE",
        "SKYWATCH_RELEASE",
    ]


def test_the_image_serves_metrics_on_a_port_of_their_own():
    assert "METRICS_PORT=9100" in " ".join(instructions("ENV"))
    assert instructions("EXPOSE") == ["8000 9100"]


def test_compose_runs_every_role_of_the_one_image_with_postgres_and_redis(compose):
    services = compose["services"]

    assert set(services) == {"postgres", "redis", *ROLES}
    for role in ROLES:
        assert services[role]["command"] == [role]
        assert services[role]["build"] == "."
        assert services[role]["read_only"] is True


def test_compose_starts_web_worker_and_beat_after_migrations_and_healthy_services(compose):
    services = compose["services"]

    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for role in ("web", "worker", "beat"):
        depends = services[role]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"]


def test_compose_demands_a_secret_key_instead_of_shipping_one(compose):
    environment = compose["services"]["web"]["environment"]

    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert environment["DJANGO_ENV"] == "prod"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_env_example_holds_no_secret_values():
    lines = (ROOT / ".env.example").read_text().splitlines()
    assignments = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))

    assert assignments == {"DJANGO_SECRET_KEY": ""}


def test_prod_static_storage_skips_source_maps_but_still_rewrites_urls():
    from skywatch.storage import StaticFilesStorage

    rules = [rule for _, group in StaticFilesStorage.patterns for rule in group]
    regexes = [rule[0] if isinstance(rule, tuple) else rule for rule in rules]

    assert not [regex for regex in regexes if "sourceMappingURL" in regex]
    assert any("url\\(" in regex for regex in regexes)
    assert any("@import" in regex for regex in regexes)
