"""No Docker engine runs here: check that the compose file names real modules and settings."""

from __future__ import annotations

import importlib
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "leaderboard" / "settings.py").read_text()
APP_SERVICES = ["migrate", "web", "worker-gpu", "worker-cpu", "worker-housekeeping", "beat"]
RUNNING_SERVICES = APP_SERVICES[1:]
# What an operator must set (the compose file refuses to start without them).
REQUIRED = {"SECRET_KEY": secrets.token_urlsafe(50), "APP_DATABASE_PASSWORD": "app-secret"}


def _command(service: str) -> list[str]:
    return COMPOSE["services"][service]["command"]


def test_it_has_every_service_the_design_names() -> None:
    assert set(COMPOSE["services"]) >= {"postgres", "redis", *APP_SERVICES}


def test_gunicorn_serves_the_real_wsgi_application() -> None:
    command = " ".join(_command("web"))
    module = re.search(r"gunicorn (\S+)", command).group(1)
    assert callable(importlib.import_module(module).application)


def test_celery_commands_name_the_real_app_and_its_queues() -> None:
    for service in ["worker-gpu", "worker-cpu", "worker-housekeeping", "beat"]:
        command = _command(service)
        app_module = command[command.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "leaderboard"


def _queue(service: str) -> str:
    """The queue a worker service serves, ``${GPU_QUEUE:-default}`` as compose fills it."""
    command = _command(service)
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command[command.index("--queues") + 1])


def test_each_evaluation_worker_serves_a_worker_class_of_its_backend() -> None:
    from evaluations import routing

    for service in ["worker-gpu", "worker-cpu"]:
        worker_class = routing.class_of_queue(_queue(service))
        assert worker_class is not None, f"{service} serves a queue no class names"
        assert worker_class.backend == COMPOSE["services"][service]["environment"]["WORKER_BACKEND"]
    assert _queue("worker-gpu") == "gpu-24g" and _queue("worker-cpu") == "cpu"


def test_the_site_and_every_worker_share_one_table_of_worker_classes() -> None:
    """The site routes a run when it is submitted, a worker when it takes it: same table."""
    for service in RUNNING_SERVICES:
        assert environment(service, **REQUIRED)["EVAL_WORKER_CLASSES"] == "", service


def test_the_web_service_is_health_checked_at_healthz() -> None:
    assert "/healthz" in " ".join(COMPOSE["services"]["web"]["healthcheck"]["test"])


def test_housekeeping_has_a_worker_of_its_own_that_evaluates_nothing() -> None:
    """A long evaluation queue must never delay the reaper: beat sends its tasks to the
    housekeeping queue, which only the housekeeping worker takes."""
    from django.conf import settings

    queues = {
        service: _command(service)[_command(service).index("--queues") + 1].split(",")
        for service in ["worker-gpu", "worker-cpu", "worker-housekeeping"]
    }
    assert queues["worker-housekeeping"] == [settings.HOUSEKEEPING_QUEUE]
    assert all(settings.HOUSEKEEPING_QUEUE not in queues[s] for s in ["worker-gpu", "worker-cpu"])
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["options"]["queue"] == settings.HOUSEKEEPING_QUEUE
        assert settings.CELERY_TASK_ROUTES[entry["task"]]["queue"] == settings.HOUSEKEEPING_QUEUE
    reaper = settings.CELERY_BEAT_SCHEDULE["reap-stale-runs"]["schedule"]
    assert reaper == settings.EVAL_REAP_INTERVAL


def environment(service: str, **given: str) -> dict[str, str]:
    """A service's environment as compose would pass it, ``${NAME:-default}`` and
    ``${NAME:?message}`` filled from ``given`` (the operator's environment)."""

    def fill(match: re.Match[str]) -> str:
        name, kind, default = match.groups()
        if name in given:
            return given[name]
        assert kind != "?", f"{service}: {name} must be set"
        return default or ""

    variables = COMPOSE["services"][service]["environment"]
    pattern = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")
    return {name: pattern.sub(fill, str(value)) for name, value in variables.items()}


def run_with(env: dict[str, str], *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A Python process of this project under ``env`` alone (var/ in ``tmp_path``: /app/var is
    the container's)."""
    base = {name: os.environ[name] for name in ("PATH", "PYTHONPATH", "HOME") if name in os.environ}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env, "LEADERBOARD_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_web_environment_as_shipped(tmp_path: Path) -> None:
    env = environment("web", **REQUIRED, ALLOWED_HOSTS="leaderboard.example.org")
    result = run_with(
        env, "manage.py", "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


REDIRECTS = """
import django
django.setup()
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
middleware = SecurityMiddleware(lambda request: None)
for proto in ("https", "http"):
    request = RequestFactory().get("/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO=proto)
    response = middleware.process_request(request)
    print(proto, response.status_code if response else "served")
"""


def test_behind_the_tls_proxy_a_forwarded_https_request_is_served_not_redirected(
    tmp_path: Path,
) -> None:
    env = {**environment("web", **REQUIRED), "DJANGO_SETTINGS_MODULE": "leaderboard.settings"}
    result = run_with(env, "-c", REDIRECTS, tmp_path=tmp_path)
    assert result.stdout.splitlines() == ["https served", "http 301"], result.stderr


def test_the_owner_migrates_and_everything_else_connects_as_the_app_role() -> None:
    owner = environment("migrate", **REQUIRED)["DATABASE_URL"]
    assert owner.startswith("postgres://leaderboard:")
    assert _command("migrate") == ["python", "manage.py", "migrate", "--noinput"]
    for service in RUNNING_SERVICES:
        assert environment(service, **REQUIRED)["DATABASE_URL"].startswith(
            "postgres://app:app-secret@postgres:5432/"
        ), service
        assert "migrate" not in " ".join(_command(service)), service


def test_the_app_role_is_granted_by_the_shipped_sql_after_every_migrate() -> None:
    grants = COMPOSE["services"]["db-grants"]
    assert grants["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert grants["volumes"] == ["./deploy:/deploy:ro"]
    script = (ROOT / "deploy" / grants["command"][-1].removeprefix("/deploy/")).read_text()
    assert "-f /deploy/app_role.sql" in script and (ROOT / "deploy" / "app_role.sql").exists()
    for service in RUNNING_SERVICES:
        depends_on = COMPOSE["services"][service]["depends_on"]
        assert depends_on["db-grants"]["condition"] == "service_completed_successfully", service


def test_gunicorn_is_reachable_from_the_host_s_proxy_only() -> None:
    assert COMPOSE["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_every_environment_variable_is_one_the_settings_read() -> None:
    for service in APP_SERVICES:
        for name in COMPOSE["services"][service]["environment"]:
            assert f'"{name}"' in SETTINGS_SOURCE, f"{service}: settings never read {name}"


def test_the_gpu_worker_reserves_a_gpu_and_runs_vllm() -> None:
    worker = COMPOSE["services"]["worker-gpu"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert worker["environment"]["WORKER_BACKEND"] == "vllm"
    assert worker["build"]["args"]["EXTRA"] == "gpu"


def test_the_dockerfile_pins_torch_before_anything_pulls_it() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "torch==2.13.0" in dockerfile
    assert dockerfile.index("torch==2.13.0") < dockerfile.index("pip install .")
