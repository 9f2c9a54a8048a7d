"""`manage.py seed_demo`: the synthetic data the benchmarks run on is well-formed."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from evaluations.evidence.matching import claim_evidence
from evaluations.models import Claim, EvaluationRun, FlagEvent, FlagState, ModelRepo, Score
from evaluations.reproduce import run_reproduction
from evaluations.selectors import rankings

pytestmark = pytest.mark.django_db


def test_it_seeds_models_runs_claims_and_the_flags_the_rule_raises() -> None:
    call_command("seed_demo", models=40, revisions=2, stdout=None)
    assert ModelRepo.objects.count() == 40
    assert EvaluationRun.objects.finished_ok().count() == 80
    assert Score.objects.count() == 80 * 8
    assert Claim.objects.count() == 40 * 3
    events = FlagEvent.objects.all()
    assert events.exists() and all(e.reason.startswith("Claimed ") for e in events)
    # The page's own rule agrees with the seeded flags for a flagged model.
    flagged_repo = events.filter(state=FlagState.OPENED).first().flag.claim.repo_id
    verdicts = {row.verdict for row in claim_evidence(flagged_repo)}
    assert "contradicted" in verdicts
    assert len(rankings.all_rows("classic")) == 40


def test_every_seeded_run_can_be_reproduced_from_its_page() -> None:
    call_command("seed_demo", models=3, revisions=1, stdout=None)
    run = EvaluationRun.objects.select_related("revision", "submission__repo").first()
    reproduction = run_reproduction(run)
    assert not reproduction.unavailable
    command = " ".join(reproduction.commands[0].argv)
    assert command.startswith("lm_eval --model vllm")
    assert f"revision={run.revision.commit_sha}" in command


def test_it_refuses_to_seed_twice() -> None:
    call_command("seed_demo", models=3, stdout=None)
    with pytest.raises(CommandError):
        call_command("seed_demo", models=3, stdout=None)
