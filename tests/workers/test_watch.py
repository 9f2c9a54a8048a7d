"""The re-upload watch against the stand-in hub: the real huggingface_hub client, local repos.

Alice's tiny model was evaluated at one commit and she claimed a score for it. Then main moves:
new weights (a true alarm: an event, the new commit queued, a flag), a new README (recorded, no
flag, no re-evaluation), a new tokenizer config (re-evaluated, no flag). Main that did not move
opens nothing; a repo the hub no longer shows is the watch's outcome, not the tick's end.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from safetensors.numpy import save

from evaluations import selectors, services
from evaluations.evidence.matching import claim_evidence
from evaluations.models import (
    Claim,
    EvaluationRun,
    Flag,
    FlagKind,
    ProvenanceEvent,
    RepoWatch,
    Revision,
    Submission,
    WatchOutcome,
)
from evaluations.services import moderation
from localdev.standin import demo_repos
from localdev.standin.hub_server import StandinHubServer, serve_in_thread
from localdev.standin.repos import move_branch, publish_repo
from tests.factories import person
from workers import hub, tasks, watch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker", "isolated_hub_client")]

REPO = "alice/tiny"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
LLAMA_CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8}


@dataclasses.dataclass
class Standin:
    root: Path
    server: StandinHubServer

    def requested_weights(self, repo_id: str) -> list[str]:
        paths = self.server.file_requests(repo_id, "GET") + self.server.file_requests(
            repo_id, "HEAD"
        )
        return [path for path in paths if path.endswith(WEIGHT_SUFFIXES)]


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Standin]:
    root = tmp_path / "standin"
    server, url = serve_in_thread(root)
    monkeypatch.setenv("HF_ENDPOINT", url)  # workers.hub reads it at call time
    yield Standin(root, server)
    server.shutdown()
    server.server_close()


def weights(fill: float) -> bytes:
    return save({"lm_head.weight": np.full((4, 8), fill, dtype=np.float32)})


def tiny_files(fill: float = 0.0, **replaced: bytes) -> dict[str, bytes | Path]:
    files: dict[str, bytes | Path] = {
        "config.json": json.dumps(LLAMA_CONFIG).encode(),
        "tokenizer_config.json": b'{"bos_token": "<s>"}',
        "model.safetensors": weights(fill),
        "README.md": b"---\nlicense: mit\n---\n# Tiny\n",
    }
    files.update(replaced)
    return files


def evaluated(repo_id: str = REPO, value: float = 0.5, ref: str = "main") -> EvaluationRun:
    """A finished whole-suite run of the commit ``ref`` names now, pinned to the hub's own
    file listing (what the worker records), with one measured score."""
    inspection = hub.inspect_repo(repo_id, ref, max_parameters=None)
    run = services.submission_create(repo_id=repo_id, ref=ref).run
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    services.run_record_inspection(
        run_id=run.id,
        commit_sha=inspection.commit_sha,
        files=[dataclasses.asdict(f) for f in inspection.files],
        parameter_count=inspection.parameter_count,
        dtype=inspection.dtype,
        licence=inspection.licence,
        model_type=inspection.model_type,
    )
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    score = {
        "benchmark_key": "smoke_arc",
        "task": "smoke_arc",
        "metric": "acc",
        "filter": "none",
        "shots": 0,
        "value": value,
        "stderr": 0.05,
        "n_samples": 40,
    }
    assert services.run_record_results(run_id=run.id, scores=[score], versions={}, artifacts=[])
    return EvaluationRun.objects.select_related("revision").get(id=run.id)


def claim_on(revision: Revision, percent: float = 50.0) -> None:
    claim = services.ClaimInput(benchmark="smoke_arc", value=percent, unit="percent", shots=0)
    services.claims_record(
        repo_id=revision.repo.hub_id, claims=[claim], source="submission", revision=revision
    )


# --- true alarm ---------------------------------------------------------------------------


def test_weights_replaced_after_claims_open_an_event_a_new_run_and_a_flag(
    standin: Standin,
) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    old_run = evaluated()
    claim_on(old_run.revision)
    new_sha = publish_repo(standin.root, REPO, tiny_files(1.0))

    assert watch.watch_reuploads() == {"event-opened": 1}

    event = ProvenanceEvent.objects.get()
    assert event.old_revision == old_run.revision
    assert event.new_commit_sha == new_sha
    assert event.weights_changed and event.reevaluated
    (changed,) = event.changes["changed"]
    assert changed["path"] == "model.safetensors" and changed["kind"] == "weights"
    old_files = {f["path"]: f for f in old_run.revision.files}
    assert changed["before"]["sha256"] == old_files["model.safetensors"]["sha256"]
    assert changed["after"]["sha256"] != changed["before"]["sha256"]
    assert event.changes["added"] == [] and event.changes["removed"] == []
    # The new commit is queued in the same setting, by the site (no user), pinned to the SHA.
    new_run = event.reevaluation
    assert new_run is not None and new_run.state == "queued"
    assert new_run.submission.ref == new_sha
    assert new_run.submission.suite == old_run.submission.suite
    assert new_run.submission.submitted_by is None
    # A flag for moderators, with the evidence; the metadata was read, never the weights.
    flag = Flag.objects.get(kind=FlagKind.WEIGHTS_REPLACED)
    assert flag.provenance_event == event and flag.repo.hub_id == REPO
    (item,) = selectors.moderation_queue()
    assert item.flag.id == flag.id
    assert item.rule_event.evidence["weight_files"] == ["model.safetensors"]
    assert "not wrongdoing by itself" in item.rule_event.reason
    assert "0 day(s) later" in item.rule_event.reason
    assert standin.requested_weights(REPO) == []
    assert RepoWatch.objects.get().outcome == WatchOutcome.NEW_COMMIT


def test_a_second_tick_opens_nothing_new(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    claim_on(evaluated().revision)
    publish_repo(standin.root, REPO, tiny_files(1.0))
    watch.watch_reuploads()
    counts = (Submission.objects.count(), EvaluationRun.objects.count(), Flag.objects.count())

    assert watch.watch_reuploads() == {"no-new-event": 1}

    assert ProvenanceEvent.objects.count() == 1
    assert (Submission.objects.count(), EvaluationRun.objects.count(), Flag.objects.count()) == (
        counts
    )


def test_claims_stay_tied_to_the_commit_they_were_made_for(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    old_run = evaluated(value=0.5)
    claim_on(old_run.revision, percent=50.0)
    publish_repo(standin.root, REPO, tiny_files(1.0))
    watch.watch_reuploads()
    # The new commit is measured (here by hand: the worker is not part of this test).
    new_run = evaluated(value=0.1)

    claim = Claim.objects.get()
    assert claim.revision == old_run.revision
    (row,) = claim_evidence(old_run.revision.repo_id)
    assert row.score is not None and row.score.run_id == old_run.id
    assert new_run.revision != old_run.revision


# --- false alarms -------------------------------------------------------------------------


def test_main_that_did_not_move_opens_nothing(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    claim_on(evaluated().revision)
    runs = EvaluationRun.objects.count()

    assert watch.watch_reuploads() == {"no-new-event": 1}

    assert not ProvenanceEvent.objects.exists() and not Flag.objects.exists()
    assert EvaluationRun.objects.count() == runs
    assert RepoWatch.objects.get().outcome == WatchOutcome.UNCHANGED


def test_a_readme_only_change_is_recorded_without_a_flag_or_a_new_run(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    claim_on(evaluated().revision)
    runs = EvaluationRun.objects.count()
    publish_repo(standin.root, REPO, tiny_files(0.0, **{"README.md": b"# Tiny, now with a logo\n"}))

    watch.watch_reuploads()

    event = ProvenanceEvent.objects.get()
    assert [c["path"] for c in event.changes["changed"]] == ["README.md"]
    assert not event.weights_changed and not event.reevaluated and event.reevaluation is None
    assert not Flag.objects.exists()
    assert EvaluationRun.objects.count() == runs


def test_a_tokenizer_change_is_evaluated_again_but_not_flagged(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    claim_on(evaluated().revision)
    new = tiny_files(0.0, **{"tokenizer_config.json": b'{"bos_token": "<|begin|>"}'})
    new_sha = publish_repo(standin.root, REPO, new)

    watch.watch_reuploads()

    event = ProvenanceEvent.objects.get()
    assert event.reevaluated and not event.weights_changed
    assert event.reevaluation is not None and event.reevaluation.submission.ref == new_sha
    assert not Flag.objects.exists()


def test_weights_replaced_with_no_claims_are_recorded_and_evaluated_without_a_flag(
    standin: Standin,
) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    evaluated()
    publish_repo(standin.root, REPO, tiny_files(1.0))

    watch.watch_reuploads()

    assert ProvenanceEvent.objects.get().reevaluation is not None
    assert not Flag.objects.exists()


def test_a_revert_to_a_commit_already_measured_reuses_its_run(standin: Standin) -> None:
    first_sha = publish_repo(standin.root, REPO, tiny_files(0.0))
    first = evaluated()
    publish_repo(standin.root, REPO, tiny_files(1.0))
    watch.watch_reuploads()
    evaluated()  # the new commit is measured; then the author reverts main
    move_branch(standin.root, REPO, first_sha)

    watch.watch_reuploads()

    revert = ProvenanceEvent.objects.order_by("-id").first()
    assert revert is not None and revert.new_commit_sha == first_sha
    assert revert.reevaluation == first  # no worker time spent on a commit already measured


def test_the_beat_runs_the_watch_on_the_housekeeping_queue(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    evaluated()
    publish_repo(standin.root, REPO, tiny_files(1.0))
    beat = settings.CELERY_BEAT_SCHEDULE["watch-reuploads"]

    result = tasks.watch_reuploads.apply().get()  # what the beat's message runs

    assert beat["task"] == tasks.watch_reuploads.name == "workers.watch_reuploads"
    assert beat["options"]["queue"] == settings.HOUSEKEEPING_QUEUE
    assert beat["schedule"] == settings.PROVENANCE_WATCH_INTERVAL
    assert result == {"event-opened": 1}


# --- the hub cannot say -------------------------------------------------------------------


def test_hub_errors_are_each_repos_outcome_and_the_tick_goes_on(
    standin: Standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    for repo_id in ("alice/gone", "alice/gated", REPO):
        publish_repo(standin.root, repo_id, tiny_files(0.0))
        evaluated(repo_id)
    publish_repo(standin.root, "alice/gated", tiny_files(0.0), gated="manual")
    (standin.root / "alice" / "gone" / "repo.json").unlink()  # deleted from the hub
    publish_repo(standin.root, REPO, tiny_files(1.0))

    counts = watch.watch_reuploads()

    assert counts == {"repo-gone": 1, "gated": 1, "event-opened": 1}
    outcomes = {w.repo.hub_id: (w.outcome, w.detail) for w in RepoWatch.objects.all()}
    assert outcomes["alice/gone"][0] == WatchOutcome.REPO_GONE
    assert outcomes["alice/gated"] == (WatchOutcome.GATED, "alice/gated is gated now (manual)")


def test_an_unreachable_hub_is_recorded(standin: Standin, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    evaluated()
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there

    assert watch.watch_reuploads() == {"hub-unreachable": 1}

    assert RepoWatch.objects.get().outcome == WatchOutcome.HUB_UNREACHABLE


def test_each_tick_takes_the_repos_checked_longest_ago(standin: Standin) -> None:
    for repo_id in ("alice/one", "alice/two", "alice/three"):
        publish_repo(standin.root, repo_id, tiny_files(0.0))
        evaluated(repo_id)

    checked = []
    for _ in range(3):
        watch.watch_reuploads(limit=1)
        checked.append(RepoWatch.objects.order_by("-checked_at").first().repo.hub_id)  # type: ignore[union-attr]

    assert sorted(checked) == ["alice/one", "alice/three", "alice/two"]


# --- moderators and the stand-in ------------------------------------------------------------


def test_a_moderator_dismisses_a_re_upload_flag(standin: Standin) -> None:
    publish_repo(standin.root, REPO, tiny_files(0.0))
    claim_on(evaluated().revision)
    publish_repo(standin.root, REPO, tiny_files(1.0))
    watch.watch_reuploads()
    flag = Flag.objects.get()
    mona = person("mona", moderator=True)

    moderation.flag_moderate(
        flag_id=flag.id, user=mona, action="dismiss", reason="A fix of the tokenizer's weights."
    )

    assert selectors.moderation_queue() == []
    with pytest.raises(Exception, match="no claim to measure again"):
        moderation.flag_rerun_queue(flag_id=flag.id, user=mona, reason="Measure it once more.")


def test_the_demo_hub_can_replace_a_repos_weights(standin: Standin) -> None:
    publish_repo(standin.root, demo_repos.REUPLOADED, tiny_files(0.0))
    before = hub.ref_listing(demo_repos.REUPLOADED, "main")

    new_sha = demo_repos.replace_weights(standin.root, demo_repos.REUPLOADED, weights(2.0))

    after = hub.ref_listing(demo_repos.REUPLOADED, "main")
    assert after.commit_sha == new_sha != before.commit_sha
    sums: dict[str, Any] = {f.path: f.sha256 or f.blob_id for f in before.files}
    changed = [f.path for f in after.files if (f.sha256 or f.blob_id) != sums[f.path]]
    assert changed == ["model.safetensors"]
