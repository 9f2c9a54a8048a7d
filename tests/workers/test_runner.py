"""How the runner ends a run when a stage raises: always with a reason a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from evaluations import services
from evaluations.errors import EvaluationError
from evaluations.models import Claim, RunState
from localdev.standin.faults import set_fault
from localdev.standin.hub_server import serve_in_thread
from localdev.standin.pulls import publish_pull_request
from localdev.standin.repos import publish_repo
from tests.factories import queued_run
from tests.workers.test_hub import tiny_llama
from workers import hub, runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _failing_hub(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def inspect_repo(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(hub, "inspect_repo", inspect_repo)


@pytest.mark.parametrize(
    "error, code",
    [
        (SoftTimeLimitExceeded(), "eval:user:time-limit"),
        (EvaluationError("eval:user:gated", "x is gated"), "eval:user:gated"),
        (RuntimeError("a bug"), "eval:infra:unexpected"),
    ],
)
def test_it_fails_the_run_with_a_stable_code(monkeypatch: pytest.MonkeyPatch, error, code) -> None:
    _failing_hub(monkeypatch, error)
    run = queued_run()
    assert runner.evaluate_run(run.id, worker_name="w", task_id="t") == code
    run.refresh_from_db()
    assert run.state == RunState.FAILED and run.error_code == code and run.error_message


def test_a_second_delivery_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_hub(monkeypatch, EvaluationError("eval:user:gated", "x"))
    run = queued_run()
    runner.evaluate_run(run.id, worker_name="w", task_id="t")
    _failing_hub(monkeypatch, AssertionError("must not be called again"))
    assert runner.evaluate_run(run.id, worker_name="w", task_id="t2") == "not-claimed"


CARDS = Path(__file__).resolve().parent.parent / "evaluations" / "cards"


@contextmanager
def inspected_on_standin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[int, hub.RepoInspection]]:
    """Serve the stand-in hub from ``tmp_path`` (the test publishes into it first), inspect
    ridge-ai/Ridge-32B there and give a claimed run with that inspection recorded."""
    server, url = serve_in_thread(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", url)
    try:
        inspection = hub.inspect_repo("ridge-ai/Ridge-32B", max_parameters=None)
        run = services.submission_create(repo_id="ridge-ai/Ridge-32B").run
        services.run_claim(run_id=run.id, worker_name="w", task_id="t")
        services.run_record_inspection(
            run_id=run.id,
            commit_sha=inspection.commit_sha,
            files=[],
            parameter_count=1,
            dtype="F32",
            licence="",
            model_type="llama",
        )
        yield run.id, inspection
    finally:
        server.shutdown()


def test_card_and_eval_results_claims_are_imported_once_per_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = tiny_llama()
    files["README.md"] = (CARDS / "oll_v1.md").read_bytes()
    files[".eval_results/gpqa.yaml"] = (CARDS / "eval_results_gpqa.yaml").read_bytes()
    publish_repo(tmp_path, "ridge-ai/Ridge-32B", files)
    with inspected_on_standin(monkeypatch, tmp_path) as (run_id, inspection):
        runner._import_card_claims(run_id, inspection)
        runner._import_card_claims(run_id, inspection)  # a second delivery adds nothing
    claims = Claim.objects.all()
    sources = {c.source for c in claims}
    assert sources == {"model-card", "eval-results", "third-party"}
    assert claims.filter(source="model-card", benchmark="arc_challenge").count() == 1
    community = claims.get(source="third-party")
    assert community.reported_by and community.reported_by != "ridge-ai"
    assert all(c.revision.commit_sha == inspection.commit_sha for c in claims)


def test_results_in_an_open_pull_request_are_imported_as_community_claims(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    main_results = (CARDS / "eval_results_gpqa.yaml").read_bytes()
    files = tiny_llama()
    files[".eval_results/gpqa.yaml"] = main_results
    publish_repo(tmp_path, "ridge-ai/Ridge-32B", files)
    added = b"- dataset: {id: TIGER-Lab/MMLU-Pro, task_id: mmlu_pro}\n  value: 55.0\n"
    changed = {".eval_results/gpqa.yaml": main_results + added.replace(b"55.0", b"57.0")}
    publish_pull_request(tmp_path, "ridge-ai/Ridge-32B", changed, author="quill-reviewer")
    closed = {".eval_results/closed.yaml": added.replace(b"55.0", b"99.0")}
    publish_pull_request(tmp_path, "ridge-ai/Ridge-32B", closed, author="x", status="closed")
    with inspected_on_standin(monkeypatch, tmp_path) as (run_id, inspection):
        runner._import_card_claims(run_id, inspection)
    from_pull = Claim.objects.filter(source_ref="refs/pr/1")
    assert [(c.typed_value, c.source, c.reported_by) for c in from_pull] == [
        ("57.0", "third-party", "pull request refs/pr/1")
    ]
    assert not Claim.objects.filter(typed_value="99.0").exists()  # a closed pull request
    assert Claim.objects.filter(source="eval-results", source_ref="").count() == 3


@pytest.mark.parametrize(
    "fault, code",
    [("drop", "eval:infra:download-interrupted"), ("corrupt", "eval:infra:checksum-mismatch")],
)
def test_a_download_fault_ends_the_run_with_its_own_reason_and_no_files_left(
    monkeypatch: pytest.MonkeyPatch,
    settings,
    tmp_path: Path,
    isolated_hub_client: None,
    fault: str,
    code: str,
) -> None:
    publish_repo(tmp_path / "hub", "demo-org/tiny", tiny_llama())
    set_fault(tmp_path / "hub", "demo-org/tiny", "model.safetensors", fault)
    server, url = serve_in_thread(tmp_path / "hub")
    monkeypatch.setenv("HF_ENDPOINT", url)
    settings.WORKER_SCRATCH_DIR = tmp_path / "scratch"
    settings.WORKER_DOWNLOAD_RETRIES = 0
    run = services.submission_create(repo_id="demo-org/tiny").run
    try:
        assert runner.evaluate_run(run.id, worker_name="w", task_id="t") == code
    finally:
        server.shutdown()
    run.refresh_from_db()
    assert run.state == RunState.FAILED and run.error_code == code
    assert "the run can be retried" in run.error_message
    assert list((tmp_path / "scratch").iterdir()) == []
