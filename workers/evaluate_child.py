"""Run one evaluation with lm-eval in a process of its own.

    python -m workers.evaluate_child SPEC_JSON OUT_DIR

The parent chooses this process's environment (no secrets, HF_HUB_OFFLINE=1), reads
``PROGRESS <done> <total>`` and a final ``DONE`` from stdout, and collects
OUT_DIR/results.json and OUT_DIR/samples.jsonl. Everything else (lm-eval's logging, tqdm,
stray prints, vLLM's engine processes, which write to file descriptor 1) goes to stderr. On
exits 3 and 4 a line ``FAILED <cause>`` precedes the exit. Exit codes: 0 done, 2 bad spec,
3 the model failed to load, 4 it loaded but failed before its first result, 1 any other
failure (traceback on stderr).

SPEC_JSON::

    {"backend": "hf" | "vllm", "model_dir": "/abs/dir", "commit_sha": "…",
     "dtype": "float32" | "bfloat16" | "float16" | "auto", "device": "cpu" | "cuda",
     "tasks": [{"task": "mmlu", "shots": 5}, …], "include_path": null | "/abs/dir",
     "batch_size": 8 | "auto", "apply_chat_template": false, "seed": 1234, "limit": null,
     "vllm_engine": {"enforce_eager": false, "max_model_len": null,
                     "gpu_memory_utilization": null, "tensor_parallel_size": 1}}

``vllm_engine`` (vllm only) holds the engine arguments from the worker's settings and its
worker class (which may add ``pipeline_parallel_size`` and ``distributed_executor_backend``).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# The worker's pid, set by the parent: a child that finds another parent was orphaned early.
PARENT_PID_VARIABLE = "EVALUATION_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel kill this process when the worker process that started it dies (even
    by SIGKILL), so no evaluation goes on unsupervised. Linux only; elsewhere the worker's
    own stop of the child is all there is."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    signal_number = ctypes.c_ulong(signal.SIGKILL)
    if libc.prctl(_PR_SET_PDEATHSIG, signal_number, ctypes.c_ulong(0), ctypes.c_ulong(0)):
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    expected = os.environ.get(PARENT_PID_VARIABLE)
    if expected and os.getppid() != int(expected):  # the worker died before prctl took hold
        os._exit(1)


if __name__ == "__main__":
    die_with_parent()  # first, before seconds of imports
    # Before lm-eval/datasets are imported: never reach for the hub, even if the parent
    # forgot. Only as a process of its own: importing this module changes no environment.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from workers.progress_lm import ModelRunFailed, ProgressLM  # noqa: E402
from workers.results import DEFAULT_MAX_GEN_TOKS, json_safe, sample_health  # noqa: E402

EXIT_BAD_SPEC = 2
EXIT_MODEL_LOAD_FAILED = 3
EXIT_MODEL_RUN_FAILED = 4
VLLM_ENGINE_ARGUMENTS = frozenset(
    {
        "enforce_eager",
        "max_model_len",
        "gpu_memory_utilization",
        "tensor_parallel_size",
        # the worker class's layout: across nodes, with vLLM's Ray executor
        "pipeline_parallel_size",
        "distributed_executor_backend",
    }
)
# vLLM's default ("auto") takes sampling defaults (temperature, top_p, max_new_tokens, ...)
# from the repo's generation_config.json, so an author could change how we generate by
# editing a file. "vllm" keeps vLLM's neutral defaults; lm-eval's task settings then decide.
VLLM_GENERATION_CONFIG = "vllm"


@dataclass(frozen=True)
class TaskSpec:
    task: str
    shots: int


@dataclass(frozen=True)
class ChildSpec:
    backend: str
    model_dir: str
    commit_sha: str
    dtype: str
    device: str
    tasks: tuple[TaskSpec, ...]
    include_path: str | None = None
    batch_size: int | str = 1
    apply_chat_template: bool = False
    seed: int = 1234
    limit: int | float | None = None
    vllm_engine: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ChildSpec:
        if raw.get("backend") not in ("hf", "vllm"):
            raise ValueError(f"unknown backend {raw.get('backend')!r}")
        if not raw.get("tasks"):
            raise ValueError("spec has no tasks")
        if unknown := set(raw.get("vllm_engine") or {}) - VLLM_ENGINE_ARGUMENTS:
            raise ValueError(f"unknown vLLM engine arguments {sorted(unknown)}")
        fields = {
            **raw,
            "tasks": tuple(TaskSpec(str(t["task"]), int(t["shots"])) for t in raw["tasks"]),
        }
        return cls(**fields)

    def model_args(self) -> dict[str, Any]:
        """The backend's constructor arguments, as results["config"]["model_args"] records."""
        args: dict[str, Any] = {
            "pretrained": self.model_dir,
            "dtype": self.dtype,
            "trust_remote_code": False,
        }
        if self.backend == "vllm":
            args["seed"] = self.seed
            args["generation_config"] = VLLM_GENERATION_CONFIG
            args.update({k: v for k, v in self.vllm_engine.items() if v is not None})
        return args

    def extra_model_args(self) -> dict[str, Any]:
        # hf wants device as its own argument (inside model_args it is a duplicate keyword);
        # vllm forwards unknown keywords to vllm.LLM, so it gets no device at all.
        extra: dict[str, Any] = {"batch_size": self.batch_size}
        if self.backend == "hf":
            extra["device"] = self.device
        return extra


def leaf_tasks(task_objects: list[Any]) -> list[Any]:
    """The Task objects under a list of Tasks and Groups."""
    from lm_eval.api.group import Group

    leaves: list[Any] = []
    for item in task_objects:
        leaves.extend(item.get_all_tasks() if isinstance(item, Group) else [item])
    return leaves


def load_model(spec: ChildSpec) -> Any:
    """Build the backend's LM the way simple_evaluate(model=<name>, ...) would."""
    import lm_eval.api.registry

    model_class = lm_eval.api.registry.get_model(spec.backend)
    return model_class.create_from_arg_obj(spec.model_args(), spec.extra_model_args())


def load_tasks(task_manager: Any, tasks: tuple[TaskSpec, ...]) -> list[Any]:
    """Task and Group objects for simple_evaluate, each leaf task set to its own shots.

    Why not ``{"task": name, "num_fewshot": n}``: lm-eval builds a dict spec from the dict
    alone (its registered YAML is not merged in), and ``simple_evaluate(num_fewshot=)`` is one
    number for all tasks and is ignored for tasks whose YAML says 0. Loading each name, then
    ``set_config("num_fewshot", n)`` on its leaf tasks, is what simple_evaluate itself does
    with num_fewshot; a Group (MMLU) keeps its structure and aggregation.
    """
    objects: list[Any] = []
    for item in tasks:
        loaded = task_manager.load([item.task])
        for task in loaded["tasks"].values():
            task.set_config(key="num_fewshot", value=item.shots)
        if item.task in loaded.get("groups", {}):
            objects.append(loaded["groups"][item.task])
        elif item.task in loaded["tasks"]:
            objects.append(loaded["tasks"][item.task])
        else:  # a tag: a plain list of tasks with no group around them
            objects.extend(loaded["tasks"].values())
    return objects


def make_task_manager(spec: ChildSpec) -> Any:
    from lm_eval.tasks import TaskManager

    # Like simple_evaluate's own default, hand the model args to tasks as metadata (some
    # tasks read "pretrained" from it). Indexing the ~15,000 built-in tasks takes seconds, so
    # skip them when the spec brings its own task directory (the smoke suite).
    return TaskManager(
        include_path=spec.include_path,
        include_defaults=spec.include_path is None,
        metadata=spec.model_args(),
    )


def evaluate(spec: ChildSpec, model: Any, report: IO[str]) -> dict[str, Any]:
    """One simple_evaluate call over all tasks, with progress lines written to ``report``."""
    import lm_eval

    # The same TaskManager goes to simple_evaluate, or it would index the built-in tasks again.
    task_manager = make_task_manager(spec)
    task_objects = load_tasks(task_manager, spec.tasks)
    proxy = ProgressLM(model, leaf_tasks(task_objects), report)
    results: dict[str, Any] = lm_eval.simple_evaluate(
        model=proxy,
        tasks=task_objects,
        task_manager=task_manager,
        **simple_evaluate_arguments(spec),
    )
    # simple_evaluate names a passed-in LM by its class or _name_or_path; record the real
    # backend and arguments instead, so the config reads like a direct call's.
    results["config"]["model"] = spec.backend
    results["config"]["model_args"] = spec.model_args()
    # lm-eval's model_sha is the hub's and is empty for a local directory.
    results["config"]["commit_sha"] = spec.commit_sha
    results["environment"] = environment_versions()
    results["setting"] = recorded_setting(spec, engine_setting(spec, model))
    results["health"] = sample_health(
        results.get("samples", {}),
        _token_counter(model),
        max_gen_toks=int(getattr(model, "max_gen_toks", DEFAULT_MAX_GEN_TOKS)),
    )
    return results


def _token_counter(model: Any) -> Callable[[str], int]:
    """How many tokens a generated text is, by the model's own tokenizer."""
    tokenizer = model.tokenizer

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count


def simple_evaluate_arguments(spec: ChildSpec) -> dict[str, Any]:
    """simple_evaluate's arguments besides the model and the tasks (each task carries its own
    shots, see ``load_tasks``)."""
    return {
        "batch_size": spec.batch_size,
        "device": spec.device,
        "limit": spec.limit,
        "log_samples": True,
        "apply_chat_template": spec.apply_chat_template,
        # simple_evaluate's own default, stated so the record does not depend on it.
        "fewshot_as_multiturn": True,
        "random_seed": spec.seed,
        "numpy_random_seed": spec.seed,
        "torch_random_seed": spec.seed,
        "fewshot_random_seed": spec.seed,
    }


def engine_setting(spec: ChildSpec, model: Any) -> dict[str, Any]:
    """What the loaded engine settled on where the arguments left it open: the dtype that
    "auto" became, the context length, and for vLLM its seed and whether the repo's
    generation_config.json set its sampling defaults."""
    if spec.backend != "vllm":
        return {
            "dtype": str(model.model.dtype).removeprefix("torch."),
            "max_length": int(model.max_length),
        }
    config = model.model.llm_engine.model_config
    return {
        "dtype": str(config.dtype).removeprefix("torch."),
        "max_model_len": int(config.max_model_len),
        "seed": config.seed,
        "generation_config": config.generation_config,
        "repo_generation_config_applied": config.generation_config != "vllm",
    }


def recorded_setting(spec: ChildSpec, engine: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the run needs to be repeated by hand: the backend, its arguments (less the local
    model directory), every task with its shots, and the rest of simple_evaluate's arguments.

    ``engine`` is what the loaded engine settled on (``engine_setting``). A vLLM run's
    arguments then name the context length vLLM derived when the worker set none, so a
    repeat pins it too."""
    model_args = {key: value for key, value in spec.model_args().items() if key != "pretrained"}
    if engine and spec.backend == "vllm":
        model_args.setdefault("max_model_len", engine["max_model_len"])
    return {
        "backend": spec.backend,
        "model_args": model_args,
        **({"engine": engine} if engine else {}),
        "tasks": [{"task": item.task, "shots": item.shots} for item in spec.tasks],
        "include_path": spec.include_path is not None,
        **simple_evaluate_arguments(spec),
    }


def environment_versions() -> dict[str, str | None]:
    import platform
    from importlib import metadata

    def installed(name: str) -> str | None:
        # Distribution metadata rather than import: importing vllm is slow and needs CUDA.
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": installed("torch"),
        "transformers": installed("transformers"),
        "lm_eval": installed("lm_eval"),
        "datasets": installed("datasets"),
        "vllm": installed("vllm"),
    }


def seed_everything(seed: int) -> None:
    # simple_evaluate seeds before it turns a model name into a model. We build the model
    # ourselves first (to tell a load failure apart), so seed the same way beforehand.
    import random

    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def protocol_stream() -> IO[str]:
    """Our stdout, kept for the protocol alone; file descriptor 1 then points at stderr.

    Libraries print to stdout (hf's batch size detection), and vLLM's engine processes write
    their errors there: redirecting the descriptor, not only ``sys.stdout``, sends all of it
    to the run's log."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return protocol


def main(argv: list[str]) -> int:
    protocol = protocol_stream()
    if len(argv) != 2:
        print("usage: python -m workers.evaluate_child SPEC_JSON OUT_DIR", file=sys.stderr)
        return EXIT_BAD_SPEC
    try:
        spec = ChildSpec.from_dict(json.loads(Path(argv[0]).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        traceback.print_exc()
        return EXIT_BAD_SPEC
    seed_everything(spec.seed)
    try:
        model = load_model(spec)
    except Exception as error:
        return _failed(protocol, EXIT_MODEL_LOAD_FAILED, error)
    try:
        results = evaluate(spec, model, protocol)
        write_outputs(results, Path(argv[1]))
    except ModelRunFailed as error:
        return _failed(protocol, EXIT_MODEL_RUN_FAILED, error)
    except Exception:
        traceback.print_exc()
        return 1
    print("DONE", file=protocol, flush=True)
    return 0


def _failed(protocol: IO[str], exit_code: int, error: Exception) -> int:
    """The traceback to the log, its last line to the parent (the run's detail)."""
    traceback.print_exc()
    cause = str(error) if isinstance(error, ModelRunFailed) else f"{type(error).__name__}: {error}"
    print(f"FAILED {' '.join(cause.split())[:500]}", file=protocol, flush=True)
    return exit_code


def write_outputs(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = results.pop("samples", {})
    with (out_dir / "samples.jsonl").open("w") as fh:
        for task, task_samples in samples.items():
            for sample in task_samples:
                fh.write(json.dumps(json_safe({"task": task, **sample}), allow_nan=False))
                fh.write("\n")
    # results.json last: where it exists, the samples are complete too.
    summary = json.dumps(json_safe(results), indent=2, allow_nan=False)
    (out_dir / "results.json").write_text(summary)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
