"""`manage.py seed_demo --models 10000`: a realistic amount of synthetic data for benchmarks.

Fills the database with models × the classic suite's 8 benchmarks, several revisions and runs
each, claims (most honest, some inflated, some in another setting) and the flags the real
rule (evaluations.evidence) raises on them. Rows are written in bulk, so 10,000
models take minutes, not hours; the rule itself is the same one the services apply. Seeded
repos are named ``seed-org-N/model-M`` so they never mix with real ones.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from evaluations.catalogue import suite_benchmarks
from evaluations.evidence.matching import evidence_for_repos
from evaluations.evidence.verdicts import Verdict
from evaluations.models import (
    Claim,
    ClaimSource,
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    Revision,
    RunState,
    Score,
    Submission,
)
from evaluations.services.read_models import ranking_entries_rebuild

SUITE = "classic"
CHUNK = 500
N_ITEMS = {
    "mmlu": 14042,
    "gsm8k": 1319,
    "math": 5000,
    "ifeval": 541,
    "arc_challenge": 1172,
    "hellaswag": 10042,
    "truthfulqa_mc2": 817,
    "winogrande": 1267,
}


class Command(BaseCommand):
    help = "Fill the database with synthetic models, runs, claims and flags (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=10_000)
        parser.add_argument("--revisions", type=int, default=2, help="per model")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["models"] < 1 or options["revisions"] < 1:
            raise CommandError("--models and --revisions must be at least 1")
        if ModelRepo.objects.filter(hub_id__startswith="seed-org-").exists():
            raise CommandError("seeded models exist already; use a fresh database")
        rng = random.Random(options["seed"])
        start = time.monotonic()
        for first in range(0, options["models"], CHUNK):
            count = min(CHUNK, options["models"] - first)
            with transaction.atomic():
                _seed_chunk(rng, first, count, options["revisions"])
            self.stdout.write(f"{first + count} models ({time.monotonic() - start:.0f} s)")
        # Rows were written in bulk, past the services: rebuild what they would have kept.
        entries = ranking_entries_rebuild()
        self.stdout.write(f"{entries} ranking entries ({time.monotonic() - start:.0f} s)")
        # A bulk load leaves the planner's statistics behind (autovacuum may be off or not
        # yet round): without them it plans nested loops over every finished run.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"seeded in {time.monotonic() - start:.1f} s"))


def _seed_chunk(rng: random.Random, first: int, count: int, revisions: int) -> None:
    now = timezone.now()
    repos = ModelRepo.objects.bulk_create(
        ModelRepo(hub_id=f"seed-org-{(first + i) % 400}/model-{first + i}") for i in range(count)
    )
    revision_rows, submission_rows = [], []
    for repo in repos:
        size = rng.choice(
            [125_000_000, 1_000_000_000, 7_000_000_000, 13_000_000_000, 70_000_000_000]
        )
        for _ in range(revisions):
            revision_rows.append(
                Revision(
                    repo=repo,
                    commit_sha=uuid.uuid4().hex + uuid.uuid4().hex[:8],
                    parameter_count=size,
                    dtype=rng.choice(["BF16", "F16", "F32"]),
                    licence=rng.choice(["apache-2.0", "mit", "llama3", "other"]),
                    model_type="llama",
                    files=[],
                )
            )
            submission_rows.append(
                Submission(
                    repo=repo,
                    ref="main",
                    suite=SUITE,
                    backend="vllm",
                    precision=rng.choice(["auto", "bfloat16"]),
                )
            )
    revision_rows = Revision.objects.bulk_create(revision_rows)
    submission_rows = Submission.objects.bulk_create(submission_rows)
    runs = EvaluationRun.objects.bulk_create(
        EvaluationRun(
            submission=submission,
            revision=revision,
            state=RunState.FINISHED,
            queue="gpu-24g",
            backend_used="vllm",
            worker_name="seed",
            started_at=now - timedelta(days=revisions - index % revisions, hours=1),
            finished_at=now - timedelta(days=revisions - index % revisions),
            versions=_versions(submission.precision),
        )
        for index, (submission, revision) in enumerate(
            zip(submission_rows, revision_rows, strict=True)
        )
    )
    skill = {repo.id: rng.uniform(0.2, 0.9) for repo in repos}
    scores = [
        _score(rng, run, benchmark, skill[run.submission.repo_id])
        for run in runs
        for benchmark in suite_benchmarks(SUITE)
    ]
    Score.objects.bulk_create(scores, batch_size=5000)
    latest = {run.submission.repo_id: run for run in runs}  # the last revision of each repo
    by_run: dict[int, list[Score]] = {}
    for score in scores:
        by_run.setdefault(score.run_id, []).append(score)
    _seed_claims(rng, repos, latest, by_run)


def _versions(precision: str) -> dict[str, Any]:
    """What the GPU worker records of a run: versions and its simple_evaluate call's setting
    (the model page's "reproduce" box is built from it)."""
    seed = 1234
    return {
        "lm_eval_version": "0.4.13",
        "vllm_version": "0.30.0",
        "torch_version": "2.13.0",
        "setting": {
            "backend": "vllm",
            "model_args": {
                "dtype": precision,
                "trust_remote_code": False,
                "seed": seed,
                "generation_config": "vllm",
                "enforce_eager": False,
                "tensor_parallel_size": 1,
                "max_model_len": 4096,
            },
            "tasks": [{"task": b.task, "shots": b.shots} for b in suite_benchmarks(SUITE)],
            "include_path": False,
            "batch_size": "auto",
            "device": "cuda",
            "limit": None,
            "log_samples": True,
            "apply_chat_template": False,
            "fewshot_as_multiturn": True,
            "random_seed": seed,
            "numpy_random_seed": seed,
            "torch_random_seed": seed,
            "fewshot_random_seed": seed,
        },
    }


def _score(rng: random.Random, run: EvaluationRun, benchmark: Any, skill: float) -> Score:
    n = N_ITEMS[benchmark.key]
    floor = benchmark.random_baseline
    value = min(0.99, max(0.0, floor + (1 - floor) * skill + rng.gauss(0, 0.03)))
    return Score(
        run=run,
        benchmark=benchmark.key,
        task=benchmark.task,
        metric=benchmark.metric,
        filter=benchmark.filter,
        shots=benchmark.shots,
        value=value,
        stderr=math.sqrt(max(value * (1 - value), 1e-6) / n),
        n_samples=n,
        health=_health(run, benchmark, n),
    )


def _health(run: EvaluationRun, benchmark: Any, n: int) -> dict[str, Any]:
    """Run health figures for generation tasks: mostly clean, a few runs truncated or
    unparsed past the limits, as harness bugs leave them. A stream of its own, so that the
    rest of the seeded data does not depend on it."""
    if benchmark.choices:
        return {}
    rng = random.Random(f"{run.id}/{benchmark.key}")
    broken = rng.random() < 0.04
    return {
        "generations": n,
        "truncated": rng.uniform(0.08, 0.3) if broken else rng.uniform(0.0, 0.02),
        "unparsed": rng.uniform(0.0, 0.03),
        "strict_flexible_gap": None,
    }


def _seed_claims(
    rng: random.Random,
    repos: list[ModelRepo],
    latest: dict[int, EvaluationRun],
    by_run: dict[int, list[Score]],
) -> None:
    claims = []
    for repo in repos:
        run = latest[repo.id]
        kind = rng.random()
        batch = uuid.uuid4()
        for score in rng.sample(by_run[run.id], 3):
            inflate = 0.0 if kind < 0.8 else rng.uniform(0.04, 0.2)
            shots = score.shots if kind < 0.9 else score.shots + 5  # another setting
            value = min(1.0, score.value + inflate + rng.gauss(0, 0.005))
            claim = Claim(
                repo=repo,
                batch=batch,
                benchmark=score.benchmark,
                label=score.benchmark,
                metric=score.metric,
                filter=score.filter,
                shots=shots,
                chat_template=False,
                chain_of_thought=False,
                value=value,
                typed_value=f"{100 * value:.1f}",
                unit="percent",
                unit_reason="seeded",
                source=ClaimSource.API,
                reported_by="seed author",
            )
            claims.append(claim)
    Claim.objects.bulk_create(claims, batch_size=5000)
    _seed_flags([repo.id for repo in repos])


def _seed_flags(repo_ids: list[int]) -> None:
    """The real matcher and rule over the repos' claims (evidence.evidence_for_repos, as the
    services use it); only the writing is in bulk."""
    raised = [
        row
        for rows in evidence_for_repos(repo_ids).values()
        for row in rows
        if row.rule_verdict in (Verdict.CONTRADICTED, Verdict.HARNESS_IN_DOUBT)
    ]
    flags = Flag.objects.bulk_create(Flag(claim=row.claim) for row in raised)
    FlagEvent.objects.bulk_create(
        (
            FlagEvent(
                flag=flag,
                state=FlagState.OPENED
                if row.rule_verdict == Verdict.CONTRADICTED
                else FlagState.IN_DOUBT,
                severity=row.judgement.severity or "" if row.judgement else "",
                reason=row.sentence,
                run_id=row.score.run_id if row.score else None,
                evidence=row.evidence_numbers(),
            )
            for flag, row in zip(flags, raised, strict=True)
        ),
        batch_size=5000,
    )


def _benchmark(key: str) -> Any:
    return next(b for b in suite_benchmarks(SUITE) if b.key == key)
