"""No Docker engine runs here: check that the compose file names real modules and settings."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "leaderboard" / "settings.py").read_text()
APP_SERVICES = ["web", "worker-gpu", "worker-cpu", "worker-housekeeping", "beat"]


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
    assert _command("worker-gpu")[_command("worker-gpu").index("--queues") + 1] == "gpu"
    assert _command("worker-cpu")[_command("worker-cpu").index("--queues") + 1] == "cpu"


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
