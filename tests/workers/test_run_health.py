"""Run health on real tiny-model runs: a run whose generations fail the health check gives
"harness in doubt" and never a public flag; the same run's healthy task still contradicts.

The model is a tiny random Llama: it never writes a stop sequence, so every generation of
Smoke GSM8K runs to max_gen_toks, and its answer filter finds no number in most of them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from evaluations import selectors, services
from evaluations.catalogue import BENCHMARKS
from evaluations.evidence.matching import claim_evidence
from evaluations.evidence.verdicts import Verdict
from evaluations.models import FlagState
from localdev.smoke import SMOKE_MAX_GEN_TOKS, smoke_task_dir
from localdev.tiny_models import build_tiny_model
from tests.factories import inspected_run
from tests.workers.test_evaluate_child import run_child, smoke_spec
from workers.results import TRUNCATION_SLACK_TOKENS, parse_scores

SMOKE = [BENCHMARKS["smoke_arc"], BENCHMARKS["smoke_gsm8k"]]


@pytest.fixture(scope="module")
def random_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    workdir = tmp_path_factory.mktemp("run_health")
    model = build_tiny_model(workdir / "random", seed=3)
    tasks = smoke_task_dir(workdir / "smoke_tasks")
    completed, out_dir = run_child(smoke_spec(model, tasks), workdir, "random-run")
    assert completed.returncode == 0, completed.stderr[-4000:]
    return model, out_dir


def test_the_child_counts_truncated_and_unparsed_generations_on_its_samples(
    random_run: tuple[Path, Path],
) -> None:
    model, out_dir = random_run
    results = json.loads((out_dir / "results.json").read_text())
    samples = [json.loads(line) for line in (out_dir / "samples.jsonl").read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(model)
    flexible = [
        s for s in samples if s["task"] == "smoke_gsm8k" and s["filter"] == "flexible-extract"
    ]
    strict = [s for s in samples if s["task"] == "smoke_gsm8k" and s["filter"] == "strict-match"]
    at_limit = [
        len(tokenizer.encode(s["resps"][0][0], add_special_tokens=False))
        >= SMOKE_MAX_GEN_TOKS - TRUNCATION_SLACK_TOKENS
        for s in strict or flexible
    ]

    health = results["health"]
    assert "smoke_arc" not in health  # loglikelihood only: nothing generated
    assert health["smoke_gsm8k"]["generations"] == 20 == len(flexible)
    assert health["smoke_gsm8k"]["truncated"] == sum(at_limit) > 0
    assert health["smoke_gsm8k"]["unparsed"]["flexible-extract"] == sum(
        s["filtered_resps"][0] in ("[invalid]", "") for s in flexible
    )


def test_the_scores_carry_their_health_shares(random_run: tuple[Path, Path]) -> None:
    _, out_dir = random_run
    arc, gsm8k = parse_scores(json.loads((out_dir / "results.json").read_text()), SMOKE)

    assert arc.health == {"generations": 0, "strict_flexible_gap": None}
    assert gsm8k.health["generations"] == 20
    assert gsm8k.health["truncated"] > BENCHMARKS["smoke_gsm8k"].max_truncated
    assert gsm8k.health["strict_flexible_gap"] is not None


@pytest.mark.django_db
def test_an_unhealthy_run_gives_harness_in_doubt_and_no_public_flag(
    random_run: tuple[Path, Path],
) -> None:
    _, out_dir = random_run
    scores = parse_scores(json.loads((out_dir / "results.json").read_text()), SMOKE)
    run = inspected_run("demo-org/tiny-random")
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_record_results(
        run_id=run.id, scores=[dataclasses.asdict(s) for s in scores], versions={}, artifacts=[]
    )
    services.claims_record(
        repo_id="demo-org/tiny-random",
        source="submission",
        claims=[
            services.ClaimInput(benchmark="smoke_arc", value=92, unit="percent", shots=0),
            services.ClaimInput(benchmark="smoke_gsm8k", value=90, unit="percent", shots=0),
        ],
    )

    rows = {row.claim.benchmark: row for row in claim_evidence(run.submission.repo_id)}
    assert rows["smoke_arc"].verdict == Verdict.CONTRADICTED  # healthy: loglikelihood only
    doubted = rows["smoke_gsm8k"]
    assert doubted.verdict == Verdict.HARNESS_IN_DOUBT
    assert "generations stopped at the token limit (limit 5 %)" in doubted.sentence
    assert not doubted.flagged
    public = {flag.claim.benchmark for flag in selectors.open_flags()}
    assert public == {"smoke_arc"}
    queue = {i.flag.claim.benchmark: i.flag.rule_state for i in selectors.moderation_queue()}
    assert queue == {"smoke_arc": FlagState.OPENED, "smoke_gsm8k": FlagState.IN_DOUBT}
