"""The whole pipeline on lm-eval's vllm backend, as a GPU worker runs it, on vLLM's CPU build.

A real Celery worker with ``WORKER_BACKEND=vllm`` takes the run from the ``gpu-24g`` queue (the
smallest vLLM class, where a run of a commit not yet inspected queues first), and the
values the model page shows must equal those of a direct ``simple_evaluate(model="vllm")``
call with the same arguments. The hf worker of tests/test_end_to_end.py takes only ``cpu``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from evaluations.models import RunState
from evaluations.reproduce import run_reproduction
from localdev.smoke import smoke_task_dir
from localdev.standin import demo_repos
from tests.direct_lm_eval import VLLM_TEST_ENVIRONMENT, direct_evaluate
from tests.e2e_support import (
    Hub,
    celery_worker,
    page_scores,
    sign_in_author,
    submit,
    wait_until_final,
)

pytestmark = [pytest.mark.e2e, pytest.mark.vllm, pytest.mark.django_db(transaction=True)]

SEED = 1234
# What the worker hands lm-eval's vllm backend for a submission in precision "auto", with
# WORKER_VLLM_ENFORCE_EAGER=1, the other WORKER_VLLM_* settings left at their defaults and the
# gpu-24g worker class's layout and memory (leaderboard/settings.py: EVAL_WORKER_CLASSES).
VLLM_MODEL_ARGS = {
    "dtype": "auto",
    "trust_remote_code": False,
    "seed": SEED,
    "generation_config": "vllm",
    "enforce_eager": True,
    "tensor_parallel_size": 1,
    "pipeline_parallel_size": 1,
    "gpu_memory_utilization": 0.9,
}


@pytest.fixture
def client(client: Client) -> Client:
    return sign_in_author(client)


@pytest.fixture(scope="module")
def wide_repo(hub: Hub, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return demo_repos.publish_wide_repo(hub.root, tmp_path_factory.mktemp("wide"))


@pytest.fixture(scope="module")
def vllm_worker(
    django_db_setup: None, hub: Hub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **VLLM_TEST_ENVIRONMENT,
        "WORKER_BACKEND": "vllm",
        "WORKER_DEVICE": "cpu",
        "WORKER_VLLM_ENFORCE_EAGER": "1",
    }
    log_dir = tmp_path_factory.mktemp("vllm-worker")
    with celery_worker(hub, log_dir, queue="gpu-24g", name="e2e-vllm", env=env) as process:
        yield process


def direct_vllm_evaluation(model_dir: Path, batch_size: int, work_dir: Path) -> dict[str, Any]:
    """The same evaluation as a person would run it: one simple_evaluate call, no pipeline."""
    return direct_evaluate(
        {
            "model": "vllm",
            "model_args": {"pretrained": str(model_dir), **VLLM_MODEL_ARGS},
            "tasks": ["smoke_arc", "smoke_gsm8k"],
            "include_path": str(smoke_task_dir()),
            "batch_size": batch_size,
            "device": "cpu",
            "log_samples": False,
            "random_seed": SEED,
            "numpy_random_seed": SEED,
            "torch_random_seed": SEED,
            "fewshot_random_seed": SEED,
        },
        work_dir,
    )["results"]


def test_a_model_evaluated_by_a_vllm_worker_shows_lm_evals_vllm_numbers(
    client: Client,
    wide_repo: tuple[str, Path],
    vllm_worker: subprocess.Popen[bytes],
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.WORKER_BACKEND = "vllm"  # the site's default backend: its runs go to "gpu-24g"
    sha, model_dir = wide_repo

    run = wait_until_final(submit(client, demo_repos.WIDE), vllm_worker)

    assert run.state == RunState.FINISHED, f"{run.error_code}: {run.error_detail}\n{run.log_tail}"
    assert (run.queue, run.backend_used, run.revision.commit_sha) == ("gpu-24g", "vllm", sha)
    assert run.versions["vllm_version"] == metadata.version("vllm")
    setting = run.versions["setting"]
    assert setting["model_args"] == {**VLLM_MODEL_ARGS, "max_model_len": 2048}
    assert setting["engine"]["repo_generation_config_applied"] is False

    html = client.get(f"/models/{demo_repos.WIDE}/").content.decode()
    shown = page_scores(html)
    direct = direct_vllm_evaluation(model_dir, int(settings.WORKER_BATCH_SIZE), tmp_path)
    assert shown["smoke_arc"][0] == direct["smoke_arc"]["acc,none"]
    assert float(shown["smoke_arc"][1]) == direct["smoke_arc"]["acc_stderr,none"]
    assert shown["smoke_gsm8k"][0] == direct["smoke_gsm8k"]["exact_match,flexible-extract"]
    assert shown["smoke_arc"][0] > 0.5  # the trained model clearly beats chance (0.25)

    # The page's reproduce box gives the vLLM command with every argument that changes results.
    (command,) = run_reproduction(run).commands
    assert command.argv[:4] == ("lm_eval", "--model", "vllm", "--model_args")
    assert set(command.argv[4].split(",")) == {
        "pretrained=demo-org/tiny-wide",
        f"revision={sha}",
        "dtype=auto",
        "trust_remote_code=False",
        "seed=1234",
        "generation_config=vllm",
        "enforce_eager=True",
        "tensor_parallel_size=1",
        "pipeline_parallel_size=1",
        "gpu_memory_utilization=0.9",
        "max_model_len=2048",
    }
    assert escape(command.text) in html
