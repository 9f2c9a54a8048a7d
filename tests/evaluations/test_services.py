"""The run's state machine and the submission rules, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from evaluations import dispatch, selectors, services
from evaluations.models import EvaluationRun, Revision, RunAction, RunState, Score, Submission
from evaluations.services.runs import AUTOMATIC_ACTOR
from tests.factories import SHA_A, SHA_B, finished_run, inspected_run, person, queued_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Messages the services hand to the broker, recorded instead of sent."""
    messages: list[tuple[int, str]] = []
    monkeypatch.setattr(
        dispatch, "send_run", lambda run_id, queue: messages.append((run_id, queue))
    )
    return messages


def test_it_queues_a_run_on_commit(django_capture_on_commit_callbacks, sent) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.submission_create(repo_id="demo-org/tiny", ref="main", suite="smoke")
    assert outcome.run.state == RunState.QUEUED
    assert not outcome.reused
    assert sent == [(outcome.run.id, "cpu")]


def test_a_vllm_submission_goes_to_the_smallest_gpu_queue_first(
    django_capture_on_commit_callbacks, sent
) -> None:
    """Its size is unknown until a worker inspects it (tests/evaluations/test_routing.py)."""
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.submission_create(repo_id="demo-org/tiny", backend="vllm")
    assert outcome.run.queue == "gpu-24g" and sent == [(outcome.run.id, "gpu-24g")]


@pytest.mark.parametrize(
    "field, value",
    [
        ("repo_id", "not a repo"),
        ("suite", "nope"),
        ("precision", "int3"),
        ("backend", "tpu"),
        ("ref", "a..b"),
    ],
)
def test_it_refuses_bad_input_with_a_message(field: str, value: str) -> None:
    kwargs = {"repo_id": "demo-org/tiny", field: value}
    with pytest.raises(ValidationError) as error:
        services.submission_create(**kwargs)
    assert error.value.messages[0]
    assert not Submission.objects.exists()


def test_resubmitting_while_queued_links_to_the_same_run() -> None:
    first = queued_run()
    again = services.submission_create(repo_id="demo-org/tiny", ref="main", suite="smoke")
    assert again.reused and again.run.id == first.id
    assert Submission.objects.count() == 2  # the submission itself is kept
    assert EvaluationRun.objects.count() == 1


def test_another_setting_is_a_new_run() -> None:
    first = queued_run()
    other = services.submission_create(repo_id="demo-org/tiny", precision="float32")
    assert not other.reused and other.run.id != first.id


def test_resubmitting_an_evaluated_commit_sha_spends_nothing() -> None:
    done = finished_run(sha=SHA_A)
    again = services.submission_create(repo_id="demo-org/tiny", ref=SHA_A)
    assert again.reused and again.run.id == done.id


def test_only_one_worker_can_claim_a_run() -> None:
    run = queued_run()
    assert services.run_claim(run_id=run.id, worker_name="w1", task_id="t1")
    assert not services.run_claim(run_id=run.id, worker_name="w2", task_id="t2")
    run.refresh_from_db()
    assert run.state == RunState.FETCHING and run.worker_name == "w1"


def test_illegal_transitions_are_refused() -> None:
    run = queued_run()
    with pytest.raises(services.InvalidTransition):
        services._transition(run.id, source=[RunState.QUEUED], target=RunState.RECORDING)
    assert not services.run_start_evaluating(run_id=run.id, backend="hf")  # not fetching yet
    run.refresh_from_db()
    assert run.state == RunState.QUEUED


def test_a_second_run_of_an_evaluated_commit_ends_as_its_duplicate() -> None:
    done = finished_run(sha=SHA_A)
    run = queued_run()  # "main" again, after the first finished
    services.run_claim(run_id=run.id, worker_name="w", task_id="t")
    original = services.run_record_inspection(
        run_id=run.id,
        commit_sha=SHA_A,
        files=[],
        parameter_count=1,
        dtype="F32",
        licence=None,
        model_type="llama",
    )
    run.refresh_from_db()
    assert original.id == done.id
    assert run.state == RunState.FINISHED and run.duplicate_of_id == done.id
    assert not run.scores.exists()


def test_a_new_commit_is_a_new_revision_and_evaluated_again() -> None:
    finished_run(sha=SHA_A)
    run = inspected_run(sha=SHA_B)
    assert run.state == RunState.FETCHING
    assert run.revision.commit_sha == SHA_B
    assert run.submission.repo.revisions.count() == 2


def test_recording_writes_scores_and_finishes_in_one_go() -> None:
    run = finished_run(value=0.625)
    assert run.state == RunState.FINISHED and run.finished_at is not None
    assert Score.objects.get(run=run, benchmark="smoke_arc").value == 0.625
    assert Score.objects.get(run=run, benchmark="smoke_gsm8k").stderr is None
    assert run.versions["lm_eval_version"] == "0.4.13"


def test_a_failed_run_keeps_its_reason_and_a_retry_is_a_new_run() -> None:
    run = inspected_run()
    assert services.run_fail(
        run_id=run.id,
        code="eval:user:remote-code",
        detail="auto_map in config.json",
        log_tail="last line",
    )
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "custom code" in run.error_message and run.error_detail == "auto_map in config.json"
    retry = services.run_retry(
        run_id=run.id,
        user=person("mona", moderator=True),
        reason="The hub timed out; trying again.",
    )
    assert retry.id != run.id and retry.state == RunState.QUEUED
    run.refresh_from_db()
    assert run.state == RunState.FAILED  # the old run stays on the record


def test_a_finished_run_cannot_fail_or_be_retried() -> None:
    run = finished_run()
    assert not services.run_fail(run_id=run.id, code="eval:infra:unexpected")
    with pytest.raises(ValidationError):
        services.run_retry(
            run_id=run.id,
            user=person("mona", moderator=True),
            reason="Trying a finished run again.",
        )


def test_an_unknown_error_code_is_kept_as_unexpected() -> None:
    run = queued_run()
    services.run_fail(run_id=run.id, code="made-up", detail="boom")
    run.refresh_from_db()
    assert run.error_code == "eval:infra:unexpected" and "made-up" in run.error_detail


def test_heartbeat_reports_progress_and_stops_after_cancel() -> None:
    run = inspected_run()
    services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_heartbeat(run_id=run.id, done=3, total=12)
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total, run.progress_percent) == (3, 12, 25)
    assert services.run_cancel(
        run_id=run.id,
        user=person("mona", moderator=True),
        reason="Submitted by mistake, says the author.",
    )
    assert not services.run_heartbeat(run_id=run.id, done=4, total=12)


def test_the_reaper_fails_runs_whose_worker_went_silent() -> None:
    run = inspected_run()
    alive = inspected_run(repo_id="demo-org/other")
    EvaluationRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.runs_reap_stale() == [run.id]
    run.refresh_from_db()
    alive.refresh_from_db()
    assert run.state == RunState.FAILED and run.error_code == "eval:infra:worker-lost"
    assert alive.state == RunState.FETCHING


def test_runs_left_queued_are_sent_again(sent) -> None:
    run = queued_run()
    EvaluationRun.objects.filter(id=run.id).update(enqueued_at=timezone.now() - timedelta(days=1))
    assert services.runs_requeue_stalled() == [run.id]
    assert sent[-1] == (run.id, "cpu")
    assert services.runs_requeue_stalled() == []  # not again until the delay has passed


def test_runs_left_queued_are_sent_again_oldest_first(sent) -> None:
    older = queued_run("demo-org/older")
    newer = queued_run("demo-org/newer")
    long_ago = timezone.now() - timedelta(days=1)
    EvaluationRun.objects.filter(id__in=[older.id, newer.id]).update(enqueued_at=long_ago)
    assert services.runs_requeue_stalled() == [older.id, newer.id]
    assert sent[-2:] == [(older.id, "cpu"), (newer.id, "cpu")]


def _silence(run: EvaluationRun) -> None:
    EvaluationRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_lost_workers_run_is_attempted_again_on_the_same_commit(
    django_capture_on_commit_callbacks, sent
) -> None:
    run = inspected_run(ref="main", sha=SHA_A)
    _silence(run)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.runs_reap_stale() == [run.id]
    run.refresh_from_db()
    retry = run.actions.get(action=RunAction.Action.RETRY)
    again = retry.new_run
    assert run.state == RunState.FAILED and run.error_code == "eval:infra:worker-lost"
    assert again.state == RunState.QUEUED and again.submission_id == run.submission_id
    assert again.revision.commit_sha == SHA_A  # pinned, even if "main" moves meanwhile
    assert retry.actor == AUTOMATIC_ACTOR and "Attempt 2 of at most 3" in retry.reason
    assert sent[-1] == (again.id, "cpu")
    assert [a.run.id for a in selectors.run_attempts(again)] == [run.id, again.id]


def test_attempts_stop_at_eval_max_attempts(settings) -> None:
    settings.EVAL_MAX_ATTEMPTS = 2
    first = inspected_run()
    _silence(first)
    services.runs_reap_stale()
    second = first.actions.get().new_run
    assert services.run_claim(run_id=second.id, worker_name="worker-2", task_id="task-2")
    _silence(second)
    assert services.runs_reap_stale() == [second.id]
    assert not second.actions.exists()  # two attempts: no third
    assert EvaluationRun.objects.count() == 2


def test_a_run_silent_past_its_time_limit_ends_as_the_submitters_and_is_not_retried() -> None:
    run = inspected_run()
    long_ago = timezone.now() - timedelta(days=2)
    EvaluationRun.objects.filter(id=run.id).update(heartbeat_at=long_ago, started_at=long_ago)
    assert services.runs_reap_stale() == [run.id]
    run.refresh_from_db()
    assert run.error_code == "eval:user:time-limit" and not run.actions.exists()


def test_a_moderators_retry_and_the_automatic_one_are_attempts_of_one_job() -> None:
    first = inspected_run()
    services.run_fail(run_id=first.id, code="eval:infra:hub-unreachable")
    mona = person("mona", moderator=True)
    second = services.run_retry(run_id=first.id, user=mona, reason="The hub is back; again.")
    assert services.run_claim(run_id=second.id, worker_name="worker-2", task_id="task-2")
    _silence(second)
    services.runs_reap_stale()
    third = second.actions.get().new_run
    attempts = selectors.run_attempts(second)
    assert [a.run.id for a in attempts] == [first.id, second.id, third.id]
    assert [a.number for a in attempts] == [1, 2, 3]
    assert attempts[0].retries[0].actor == "mona"


def test_the_model_page_says_what_changed_between_commits() -> None:
    from evaluations import selectors

    first = inspected_run(sha=SHA_A)
    second = inspected_run(sha=SHA_B, precision="float32")
    Revision.objects.filter(id=second.revision_id).update(
        files=[
            {"path": "model.safetensors", "size": 10, "sha256": "1" * 64},
            {"path": "tokenizer.json", "size": 5, "sha256": None},
        ],
        parameter_count=2000,
    )
    views = selectors.model_revisions(first.submission.repo)
    assert views[0].changes == [
        "added tokenizer.json",
        "changed model.safetensors",
        "parameters: 1000 → 2000",
    ]
