"""The worker's routing step: a queued run of unknown size is inspected before it is claimed
(no weights), pinned to the commit, and handed to the queue of the class its size needs, or
refused there when no class holds it. The stand-in hub serves a tiny model (2,496 bytes
loaded: 520 F32 parameters × 4 × 1.2); the classes below are sized around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from celery import current_app

from evaluations import dispatch, services
from evaluations.models import EvaluationRun, RunState
from tests.workers.test_hub import StandinHub, standin, tiny_llama  # noqa: F401 - fixture
from workers import runner
from workers.evaluate_child import ChildSpec

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_hub_client")]

KIB = 1024 / 1024**3  # in GiB
SMALL = {"name": "gpu-small", "backend": "vllm", "memory_gib": 1 * KIB, "gpus_per_node": 1}
LARGE = {
    "name": "gpu-large",
    "backend": "vllm",
    "memory_gib": 4 * KIB,
    "gpus_per_node": 2,
    "tensor_parallel_size": 2,
    "gpu_memory_utilization": 0.5,
    "max_model_len": 2048,
}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    messages: list[tuple[int, str]] = []
    monkeypatch.setattr(
        dispatch, "send_run", lambda run_id, queue: messages.append((run_id, queue))
    )
    return messages


def submitted(standin: StandinHub, capture: Any) -> EvaluationRun:  # noqa: F811
    standin.publish("alice/tiny", tiny_llama())
    with capture(execute=True):
        return services.submission_create(repo_id="alice/tiny", backend="vllm").run


def test_it_inspects_a_run_of_unknown_size_and_hands_it_to_the_class_that_holds_it(
    standin: StandinHub,  # noqa: F811
    settings: Any,
    sent: list[tuple[int, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EVAL_WORKER_CLASSES = [SMALL, LARGE]
    run = submitted(standin, django_capture_on_commit_callbacks)
    assert sent == [(run.id, "gpu-small")]

    with django_capture_on_commit_callbacks(execute=True):
        outcome = runner.route_before_claim(run.id)  # as the gpu-small worker

    run.refresh_from_db()
    assert outcome == "handed-to-gpu-large"
    assert (run.state, run.queue) == (RunState.QUEUED, "gpu-large")
    assert run.revision is not None and run.revision.parameter_count == 520
    assert sent == [(run.id, "gpu-small"), (run.id, "gpu-large")]
    assert standin.requested_weights("alice/tiny") == []
    # The gpu-large worker takes it: it stays there, and a second delivery moves nothing.
    assert runner.route_before_claim(run.id) == ""
    assert runner.route_before_claim(run.id) == ""
    assert len(sent) == 2


def test_the_class_s_vllm_settings_reach_the_child(settings: Any) -> None:
    settings.EVAL_WORKER_CLASSES = [SMALL, LARGE]
    settings.WORKER_BACKEND = "vllm"
    spec = runner.evaluation_spec(
        runner.submission_tasks("smoke", []), "auto", False, Path("/m"), "a" * 40, queue="gpu-large"
    )
    model_args = ChildSpec.from_dict(spec).model_args()
    assert model_args["tensor_parallel_size"] == 2
    assert model_args["pipeline_parallel_size"] == 1
    assert model_args["gpu_memory_utilization"] == 0.5
    assert model_args["max_model_len"] == 2048
    assert "distributed_executor_backend" not in model_args  # one node: vLLM's default
    hf_args = ChildSpec.from_dict({**spec, "backend": "hf"}).model_args()
    assert "tensor_parallel_size" not in hf_args and "gpu_memory_utilization" not in hf_args


def test_a_run_too_large_for_every_class_is_refused_before_it_is_claimed(
    standin: StandinHub,  # noqa: F811
    settings: Any,
    sent: list[tuple[int, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EVAL_WORKER_CLASSES = [SMALL]
    run = submitted(standin, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = runner.evaluate_run(run.id, worker_name="w", task_id="t")

    run.refresh_from_db()
    assert outcome == "eval:user:too-large-for-workers"
    assert run.state == RunState.FAILED and run.is_refused and not run.started_at
    assert "gpu-small, offers 0.0 GiB" in run.error_detail
    assert sent == [(run.id, "gpu-small")]  # never handed on
    assert standin.requested_weights("alice/tiny") == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)  # the worker process reads the rows
def test_a_real_worker_hands_a_run_to_the_right_queue_through_the_broker(
    standin: StandinHub,  # noqa: F811
    settings: Any,
    tmp_path: Path,
) -> None:
    """A Celery worker serving only the small class takes the message from the broker,
    inspects the run and puts it in the large class's queue, where it waits, pinned."""
    from tests.e2e_support import ROOT, database_url

    suffix = uuid.uuid4().hex[:8]  # queues of this test's own in the broker
    small = {**SMALL, "name": f"small-{suffix}"}
    large = {**LARGE, "name": f"large-{suffix}"}
    settings.EVAL_WORKER_CLASSES = [small, large]
    standin.publish("alice/tiny", tiny_llama())
    run = services.submission_create(repo_id="alice/tiny", backend="vllm").run
    assert run.queue == small["name"]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HF_ENDPOINT": standin.url,
        "HF_HOME": str(tmp_path / "hf-home"),
        "EVAL_WORKER_CLASSES": json.dumps([small, large]),
    }
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues"]
    command += [small["name"], "--concurrency", "1", "--without-mingle", "--without-gossip"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while EvaluationRun.objects.get(id=run.id).queue != large["name"]:
            assert time.monotonic() < deadline and worker.poll() is None, "never handed on"
            time.sleep(0.2)
        depths = dispatch.queue_depths([small["name"], large["name"]])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with current_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(large["name"])

    run.refresh_from_db()
    assert run.state == RunState.QUEUED and run.revision.parameter_count == 520
    assert depths == {small["name"]: 0, large["name"]: 1}  # its message waits for a large worker
    assert standin.requested_weights("alice/tiny") == []
