"""No Docker engine runs here: check that the compose file names real modules and settings."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "leaderboard" / "settings.py").read_text()
APP_SERVICES = ["web", "worker-gpu", "worker-cpu", "beat"]


def _command(service: str) -> list[str]:
    return COMPOSE["services"][service]["command"]


def test_it_has_every_service_the_design_names() -> None:
    assert set(COMPOSE["services"]) >= {"postgres", "redis", *APP_SERVICES}


def test_gunicorn_serves_the_real_wsgi_application() -> None:
    command = " ".join(_command("web"))
    module = re.search(r"gunicorn (\S+)", command).group(1)
    assert callable(importlib.import_module(module).application)


def test_celery_commands_name_the_real_app_and_its_queues() -> None:
    for service in ["worker-gpu", "worker-cpu", "beat"]:
        command = _command(service)
        app_module = command[command.index("-A") + 1]
        assert importlib.import_module(app_module).celery_app.main == "leaderboard"
    assert _command("worker-gpu")[_command("worker-gpu").index("--queues") + 1] == "gpu"
    assert _command("worker-cpu")[_command("worker-cpu").index("--queues") + 1] == "cpu"


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
