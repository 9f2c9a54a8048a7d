"""The whole pipeline with nothing mocked.

Real PostgreSQL, real Redis, a real Celery worker process, the real hub client against the
stand-in hub on 127.0.0.1, and a real lm-eval run on a tiny model. The values the model page
shows must equal those of a separate, direct ``simple_evaluate`` call with the same arguments.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from evaluations import dispatch
from evaluations.models import Claim, EvaluationRun, Flag, FlagEvent, RunState, Submission
from localdev.standin import demo_repos
from tests.e2e_support import (
    Hub,
    celery_worker,
    page_scores,
    sign_in_author,
    submit,
    wait_until_final,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(client: Client) -> Client:
    return sign_in_author(client)


T = TypeVar("T")


@pytest.fixture(scope="session")
def worker(
    django_db_setup: None, hub: Hub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process (the hf backend) on the test database and broker."""
    with celery_worker(hub, tmp_path_factory.mktemp("worker"), queue="cpu", name="e2e") as process:
        yield process


def _eventually(find: Callable[[], T | None], seconds: float = 30) -> T:
    """What the worker does right after a run is marked finished (judging claims, queueing
    a claim-matched run) lands a moment later."""
    deadline = time.monotonic() + seconds
    while (found := find()) is None:
        assert time.monotonic() < deadline, "nothing appeared"
        time.sleep(0.2)
    return found


def _direct_evaluation(model_dir: Path) -> dict:
    """The same evaluation as a person would run it: one simple_evaluate call, no pipeline."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from localdev.smoke import smoke_task_dir

    return lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(model_dir), "dtype": "auto"},
        tasks=["smoke_arc", "smoke_gsm8k"],
        task_manager=TaskManager(include_path=str(smoke_task_dir()), include_defaults=False),
        batch_size=int(settings.WORKER_BATCH_SIZE),
        device="cpu",
        log_samples=False,
        random_seed=1234,
        numpy_random_seed=1234,
        torch_random_seed=1234,
        fewshot_random_seed=1234,
    )["results"]


def _weight_downloads(hub: Hub, repo_id: str) -> int:
    return sum(path.endswith(".safetensors") for path in hub.server.file_requests(repo_id))


def test_a_submitted_model_is_evaluated_and_its_page_shows_lm_evals_numbers(
    client: Client, hub: Hub, worker: subprocess.Popen[bytes]
) -> None:
    run = wait_until_final(submit(client, demo_repos.TRAINED), worker)

    assert run.state == RunState.FINISHED, f"{run.error_code}: {run.error_detail}\n{run.log_tail}"
    assert (
        run.seen_states[-1] == "finished"
        and run.revision.commit_sha == hub.shas[demo_repos.TRAINED]
    )
    assert run.progress_total > 0 and run.progress_done == run.progress_total
    assert {a.kind for a in run.artifacts.all()} == {"results", "samples", "log"}
    assert run.versions["lm_eval_version"] and run.versions["torch_version"]
    assert set(run.versions["task_config_sha256"]) == {"smoke_arc", "smoke_gsm8k"}

    html = client.get(f"/models/{demo_repos.TRAINED}/").content.decode()
    shown = page_scores(html)
    direct = _direct_evaluation(hub.model_dirs[demo_repos.TRAINED])
    assert shown["smoke_arc"][0] == direct["smoke_arc"]["acc,none"]
    assert float(shown["smoke_arc"][1]) == direct["smoke_arc"]["acc_stderr,none"]
    assert shown["smoke_gsm8k"][0] == direct["smoke_gsm8k"]["exact_match,flexible-extract"]
    assert shown["smoke_arc"][0] > 0.5  # the trained model clearly beats chance (0.25)
    assert hub.shas[demo_repos.TRAINED] in html

    # The model card's claims were imported for that commit, and they hold.
    card_claims = Claim.objects.filter(repo__hub_id=demo_repos.TRAINED, source="model-card")
    assert {c.benchmark for c in card_claims} == {"smoke_arc", "smoke_gsm8k"}
    assert all(c.revision_id == run.revision_id for c in card_claims)
    assert not Flag.objects.filter(claim__in=card_claims).exists()

    # The same commit again: linked to the first run, nothing downloaded, nothing evaluated.
    weights_before = _weight_downloads(hub, demo_repos.TRAINED)
    again = wait_until_final(submit(client, demo_repos.TRAINED), worker)
    assert again.duplicate_of_id == run.id and not again.scores.exists()
    assert _weight_downloads(hub, demo_repos.TRAINED) == weights_before


def test_a_repo_with_custom_code_fails_with_its_reason_before_any_weights_download(
    client: Client, hub: Hub, worker: subprocess.Popen[bytes]
) -> None:
    run = wait_until_final(submit(client, demo_repos.CUSTOM_CODE), worker)
    assert run.state == RunState.FAILED and run.error_code == "eval:user:remote-code"
    assert _weight_downloads(hub, demo_repos.CUSTOM_CODE) == 0
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "needs custom code" in page


def test_a_second_delivery_of_the_same_message_changes_nothing(
    client: Client, hub: Hub, worker: subprocess.Popen[bytes]
) -> None:
    first = wait_until_final(submit(client, demo_repos.PICKLE_ONLY), worker)
    assert first.error_code == "eval:user:no-safetensors"
    dispatch.send_run(first.id, "cpu")  # the broker delivers the same run id again
    # One worker process takes messages in order: once the next run ends, the repeat was seen.
    wait_until_final(submit(client, demo_repos.GATED), worker)
    again = EvaluationRun.objects.get(id=first.id)
    assert (again.state, again.finished_at, again.error_code) == (
        first.state,
        first.finished_at,
        first.error_code,
    )


def test_an_over_claim_ends_with_a_flag_quoting_the_measured_value(
    client: Client, hub: Hub, worker: subprocess.Popen[bytes]
) -> None:
    run = wait_until_final(
        submit(
            client,
            demo_repos.RANDOM_A,
            **{
                "claim-smoke_arc-value": "92",
                "claim-smoke_arc-unit": "percent",
                "claim-smoke_arc-shots": "0",
            },
        ),
        worker,
    )
    assert run.state == RunState.FINISHED, f"{run.error_code}: {run.error_detail}"
    measured = run.scores.get(benchmark="smoke_arc")
    [event] = FlagEvent.objects.filter(flag__claim__repo__hub_id=demo_repos.RANDOM_A)
    assert event.state == "opened" and event.run_id == run.id and event.severity == "severe"
    stated = f"measured {100 * measured.value:.1f}, standard error {100 * measured.stderr:.1f}"
    assert stated in event.reason
    page = client.get(f"/models/{demo_repos.RANDOM_A}/").content.decode()
    assert escape(event.reason) in page and "contradicted" in page


def test_a_claim_in_another_setting_gets_a_claim_matched_run_and_is_then_judged(
    client: Client, hub: Hub, worker: subprocess.Popen[bytes]
) -> None:
    first = wait_until_final(
        submit(
            client,
            demo_repos.RANDOM_B,
            **{"claim-smoke_arc-value": "41", "claim-smoke_arc-shots": "5"},
        ),
        worker,
    )
    assert first.state == RunState.FINISHED
    matched = _eventually(
        lambda: Submission.objects.filter(
            repo__hub_id=demo_repos.RANDOM_B, tasks=[{"benchmark": "smoke_arc", "shots": 5}]
        ).first()
    )
    assert matched.ref == first.revision.commit_sha  # the same commit, pinned
    matched_run = wait_until_final(matched.runs.get(), worker)
    assert matched_run.state == RunState.FINISHED
    assert matched_run.scores.get().shots == 5
    api = client.get(f"/api/v1/models/{demo_repos.RANDOM_B}/claims").json()
    assert api[0]["verdict"] in {"supported", "inconclusive", "contradicted", "under-claim"}
    assert api[0]["run_id"] == matched_run.id
