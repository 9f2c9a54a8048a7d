"""Which worker class, and so which queue, evaluates a model: by the memory its weights need.

Worker classes are set in ``settings.EVAL_WORKER_CLASSES`` (names, queues, capacities and
each class's vLLM settings). A model needs

    parameters × bytes per parameter (of the precision it is loaded in) × EVAL_MEMORY_OVERHEAD

bytes: the weights, plus a stated margin for the KV cache and activations. It goes to the
smallest class of its backend that offers that much; a model larger than every class is
refused before it is queued. The parameter count and dtype come from the revision the worker
inspected (the safetensors headers), so a run of a commit nobody has inspected yet queues
first on its backend's smallest class, whose worker inspects it (no weights) and hands it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from evaluations.errors import EvaluationError

GIB = 1024**3
# Bytes per parameter by dtype: the safetensors names the hub reports, and the precisions a
# submitter may ask for (which override the checkpoint's, except "auto").
BYTES_PER_PARAMETER: dict[str, int] = {
    "F64": 8,
    "I64": 8,
    "F32": 4,
    "I32": 4,  # also GPTQ/AWQ packed weights: the stored size is the loaded size
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
}
# An unknown dtype is counted as the widest common one, so a model is never routed too small.
UNKNOWN_DTYPE_BYTES = 4
BACKENDS = ("hf", "vllm")


@dataclass(frozen=True)
class WorkerClass:
    """Machines of one kind, serving one queue. ``memory_gib`` is per GPU (per machine for
    a CPU class, ``gpus_per_node`` 0). vLLM's settings split the model over the GPUs:
    ``tensor_parallel_size`` inside a node, ``pipeline_parallel_size`` across nodes (Ray)."""

    name: str
    queue: str
    backend: str
    memory_gib: float
    gpus_per_node: int = 0
    nodes: int = 1
    max_parameters: int | None = None
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None

    @property
    def distributed_executor_backend(self) -> str | None:
        """vLLM's Ray executor for a model spread over several machines; its default within one."""
        return "ray" if self.nodes > 1 else None

    @property
    def capacity_bytes(self) -> int:
        """Memory the model may take: every GPU's share vLLM may use, or the machine's."""
        if not self.gpus_per_node:
            return int(self.memory_gib * GIB)
        gpus = self.gpus_per_node * self.nodes
        return int(self.memory_gib * GIB * gpus * self.gpu_memory_utilization)

    def vllm_settings(self) -> dict[str, Any]:
        """What the evaluation spec passes to vLLM for this class."""
        return {
            "tensor_parallel_size": self.tensor_parallel_size,
            "pipeline_parallel_size": self.pipeline_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "max_model_len": self.max_model_len,
            "distributed_executor_backend": self.distributed_executor_backend,
        }


def worker_classes() -> tuple[WorkerClass, ...]:
    """The configured classes, smallest capacity first. Raises ImproperlyConfigured (the
    system check reports it at start) when the table is not one a worker could serve."""
    classes = tuple(_parse(raw) for raw in settings.EVAL_WORKER_CLASSES)
    names = [worker_class.name for worker_class in classes]
    queues = [worker_class.queue for worker_class in classes]
    if not classes or len(set(names)) < len(names) or len(set(queues)) < len(queues):
        raise ImproperlyConfigured("EVAL_WORKER_CLASSES: give classes with distinct names/queues")
    return tuple(sorted(classes, key=lambda worker_class: worker_class.capacity_bytes))


def _parse(raw: dict[str, Any]) -> WorkerClass:
    try:
        worker_class = WorkerClass(**{"queue": raw.get("name"), **raw})
    except TypeError as error:
        raise ImproperlyConfigured(f"EVAL_WORKER_CLASSES: {error}") from error
    problem = _problem(worker_class)
    if problem:
        raise ImproperlyConfigured(f"EVAL_WORKER_CLASSES, class {worker_class.name!r}: {problem}")
    return worker_class


def _problem(worker_class: WorkerClass) -> str:
    parallel = worker_class.tensor_parallel_size * worker_class.pipeline_parallel_size
    gpus = worker_class.gpus_per_node * worker_class.nodes
    if not worker_class.name or not worker_class.queue:
        return "a name is required"
    if worker_class.backend not in BACKENDS:
        return f"backend must be one of {', '.join(BACKENDS)}"
    if worker_class.memory_gib <= 0 or worker_class.nodes < 1:
        return "memory_gib must be positive and nodes at least 1"
    if not 0 < worker_class.gpu_memory_utilization <= 1:
        return "gpu_memory_utilization must be in (0, 1]"
    if gpus and parallel != gpus:
        return f"tensor × pipeline parallel ({parallel}) must equal the GPUs ({gpus})"
    if not gpus and (parallel != 1 or worker_class.nodes != 1):
        return "a CPU class runs on one machine, without parallelism"
    return ""


def class_of_queue(queue: str) -> WorkerClass | None:
    return next((c for c in worker_classes() if c.queue == queue), None)


def entry_class(backend: str) -> WorkerClass:
    """Where a run of unknown size queues first: its backend's smallest class."""
    for worker_class in worker_classes():
        if worker_class.backend == backend:
            return worker_class
    detail = f"no worker class runs the {backend} backend (EVAL_WORKER_CLASSES)"
    raise EvaluationError("eval:user:too-large-for-workers", detail)


def memory_needed(parameter_count: int, dtype: str, precision: str) -> int:
    """Bytes a model needs loaded in ``precision`` ("auto": its checkpoint's ``dtype``)."""
    loaded = dtype if precision == "auto" else precision
    per_parameter = BYTES_PER_PARAMETER.get(loaded, UNKNOWN_DTYPE_BYTES)
    return int(parameter_count * per_parameter * settings.EVAL_MEMORY_OVERHEAD)


def class_for_model(
    *, backend: str, parameter_count: int | None, dtype: str, precision: str
) -> WorkerClass:
    """The smallest class of ``backend`` that fits the model; its entry class when the size
    is unknown (the inspection found no safetensors parameter count).

    Raises EvaluationError ``eval:user:too-large-for-workers`` when no class fits.
    """
    if parameter_count is None:
        return entry_class(backend)
    needed = memory_needed(parameter_count, dtype, precision)
    candidates = [c for c in worker_classes() if c.backend == backend]
    for worker_class in candidates:
        over_limit = worker_class.max_parameters and parameter_count > worker_class.max_parameters
        if needed <= worker_class.capacity_bytes and not over_limit:
            return worker_class
    loaded = dtype if precision == "auto" else precision
    detail = (
        f"{parameter_count:,} parameters in {loaded or 'an unknown dtype'} need about"
        f" {needed / GIB:,.1f} GiB (× {settings.EVAL_MEMORY_OVERHEAD} for the KV cache and"
        f" activations); {_largest_offer(backend, candidates)}"
    )
    raise EvaluationError("eval:user:too-large-for-workers", detail)


def _largest_offer(backend: str, candidates: list[WorkerClass]) -> str:
    if not candidates:
        return f"no worker class runs the {backend} backend"
    largest = max(candidates, key=lambda c: c.capacity_bytes)
    capacity = largest.capacity_bytes / GIB
    offer = f"the largest {backend} class, {largest.name}, offers {capacity:,.1f} GiB"
    if largest.max_parameters:
        offer += f" and at most {largest.max_parameters:,} parameters"
    return offer
