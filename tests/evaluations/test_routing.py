"""Routing by size: each model goes to the smallest worker class whose memory holds it, and
one larger than every class is refused with the reason before anything is queued."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from evaluations import dispatch, routing, services
from evaluations.apps import worker_classes_check
from evaluations.errors import REFUSAL_CODES, EvaluationError
from evaluations.models import ModelRepo, Revision, RunState
from tests.factories import SHA_A

B = 1_000_000_000


@pytest.mark.parametrize(
    ("backend", "parameters", "dtype", "precision", "queue"),
    [
        ("hf", 1 * B, "BF16", "auto", "cpu"),
        ("vllm", 7 * B, "BF16", "auto", "gpu-24g"),  # 15.6 GiB of 21.6
        ("vllm", 8 * B, "F32", "auto", "gpu-80g"),  # 35.8 GiB: its checkpoint's dtype
        ("vllm", 8 * B, "F32", "bfloat16", "gpu-24g"),  # loaded narrower, it fits again
        ("vllm", 32 * B, "BF16", "auto", "gpu-80g"),  # 71.5 GiB of 72
        ("vllm", 70 * B, "BF16", "auto", "gpu-multi"),  # two nodes of 8 GPUs, with Ray
        ("vllm", 405 * B, "BF16", "auto", "gpu-multi"),
        ("vllm", 1 * B, "I32", "auto", "gpu-24g"),  # packed quantised weights, as stored
    ],
)
def test_it_picks_the_smallest_class_that_holds_the_model(
    backend: str, parameters: int, dtype: str, precision: str, queue: str
) -> None:
    chosen = routing.class_for_model(
        backend=backend, parameter_count=parameters, dtype=dtype, precision=precision
    )
    assert chosen.queue == queue


def test_the_multi_node_class_spreads_the_model_with_ray() -> None:
    multi = routing.class_of_queue("gpu-multi")
    assert multi is not None
    assert multi.vllm_settings() == {
        "tensor_parallel_size": 8,
        "pipeline_parallel_size": 2,
        "gpu_memory_utilization": 0.9,
        "max_model_len": None,
        "distributed_executor_backend": "ray",
    }
    single = routing.class_of_queue("gpu-80g")
    assert single is not None and single.distributed_executor_backend is None


@pytest.mark.parametrize(
    ("backend", "parameters", "names"),
    [
        ("vllm", 1000 * B, "gpu-multi, offers 1,152.0 GiB"),
        ("hf", 5 * B, "at most 3,000,000,000 parameters"),  # the CPU class's own limit
    ],
)
def test_a_model_too_large_for_every_class_is_refused_with_the_reason(
    backend: str, parameters: int, names: str
) -> None:
    with pytest.raises(EvaluationError) as refused:
        routing.class_for_model(
            backend=backend, parameter_count=parameters, dtype="BF16", precision="auto"
        )
    assert refused.value.code == "eval:user:too-large-for-workers"
    assert refused.value.code in REFUSAL_CODES
    assert f"{parameters:,} parameters in BF16 need about" in refused.value.detail
    assert names in refused.value.detail


def test_a_model_of_unknown_size_queues_on_its_backend_s_entry_class() -> None:
    for backend, queue in (("hf", "cpu"), ("vllm", "gpu-24g")):
        chosen = routing.class_for_model(
            backend=backend, parameter_count=None, dtype="", precision="auto"
        )
        assert chosen.queue == queue


@pytest.mark.parametrize(
    "table",
    [
        [{"name": "gpu", "backend": "vllm", "memory_gib": 80, "gpus_per_node": 4}],  # tp 1 ≠ 4
        [{"name": "gpu", "backend": "tpu", "memory_gib": 80}],
        [{"name": "cpu", "backend": "hf", "memory_gib": 16, "nodes": 2}],
        [{"name": "a", "backend": "hf", "memory_gib": 1, "colour": "red"}],
        [],
    ],
)
def test_a_table_no_worker_could_serve_fails_the_system_check(settings: Any, table: Any) -> None:
    settings.EVAL_WORKER_CLASSES = table
    with pytest.raises(ImproperlyConfigured):
        routing.worker_classes()
    assert [error.id for error in worker_classes_check()] == ["evaluations.E001"]


# --- at submission --------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    messages: list[tuple[int, str]] = []
    monkeypatch.setattr(
        dispatch, "send_run", lambda run_id, queue: messages.append((run_id, queue))
    )
    return messages


def inspected_commit(repo_id: str, parameters: int, dtype: str = "BF16") -> str:
    repo, _ = ModelRepo.objects.get_or_create(hub_id=repo_id)
    Revision.objects.create(repo=repo, commit_sha=SHA_A, parameter_count=parameters, dtype=dtype)
    return SHA_A


@pytest.mark.django_db
def test_a_commit_already_inspected_is_queued_on_its_class_at_once(
    django_capture_on_commit_callbacks: Any, sent: list[tuple[int, str]]
) -> None:
    sha = inspected_commit("ridge-ai/Ridge-70B", 70 * B)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.submission_create(repo_id="ridge-ai/Ridge-70B", ref=sha, backend="vllm").run
    assert (run.state, run.queue, run.revision.commit_sha) == (RunState.QUEUED, "gpu-multi", sha)
    assert sent == [(run.id, "gpu-multi")]


@pytest.mark.django_db
def test_a_commit_too_large_for_every_class_is_refused_before_it_is_queued(
    django_capture_on_commit_callbacks: Any, sent: list[tuple[int, str]]
) -> None:
    sha = inspected_commit("ridge-ai/Ridge-1T", 1000 * B)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.submission_create(repo_id="ridge-ai/Ridge-1T", ref=sha, backend="vllm").run
    assert run.state == RunState.FAILED and run.is_refused and run.queue == ""
    assert run.error_code == "eval:user:too-large-for-workers"
    assert "than any worker class this site runs" in run.error_reason
    assert "the largest vllm class, gpu-multi, offers 1,152.0 GiB" in run.error_reason
    assert sent == []


@pytest.mark.django_db
def test_a_branch_of_unknown_size_goes_to_the_inspection_step_first(
    django_capture_on_commit_callbacks: Any, sent: list[tuple[int, str]]
) -> None:
    inspected_commit("ridge-ai/Ridge-70B", 70 * B)  # main may have moved since: not used
    with django_capture_on_commit_callbacks(execute=True):
        run = services.submission_create(repo_id="ridge-ai/Ridge-70B", backend="vllm").run
    assert run.queue == "gpu-24g" and run.revision is None
    assert sent == [(run.id, "gpu-24g")]
