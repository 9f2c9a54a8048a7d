"""Reads for the compare and scatter pages. No writes here.

Compare: two to five models on one suite, each at its latest finished whole-suite run, and
the difference between the first model and each other one with a 95 % interval. Where both
runs answered the same items (lm-eval's per-sample outputs say so), the difference is
*paired*: the mean of per-item differences, with standard error sd(diff)/sqrt(n) (Miller
2024, "Adding Error Bars to Evals"). The two models' errors on shared questions are
correlated, so the paired interval is usually much narrower. Otherwise it is *unpaired*:
the difference of the stored means with sqrt(s1² + s2²).

Scatter: every current, comparable claim of one benchmark next to the measurement the model
page compares it with, in a constant number of queries whatever the number of models.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from evaluations.catalogue import BENCHMARKS, SUITES, Benchmark, suite_benchmarks
from evaluations.evidence.matching import ClaimEvidence, evidence_for_repos
from evaluations.evidence.verdicts import Verdict
from evaluations.models import (
    Claim,
    EvaluationRun,
    ModelRepo,
    RunArtifact,
    Score,
)
from evaluations.storage import artifact_path

Z_95 = 1.959963984540054
MIN_MODELS, MAX_MODELS = 2, 5
MAX_SAMPLES_BYTES = 200 * 1024 * 1024  # larger samples files are not read on a page view
PAIRED, UNPAIRED = "paired", "unpaired"

ItemKey = tuple[str, str, str]  # (task, doc_id, filter)
ItemValues = dict[ItemKey, float]


class ComparisonError(ValueError):
    """A request the compare or scatter page cannot answer; the message says why."""


# --- Compare ------------------------------------------------------------------------------


@dataclass
class ModelColumn:
    hub_id: str
    run: EvaluationRun | None
    scores: dict[str, Score] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    """first model − other model on one benchmark, as raw fractions."""

    other: str
    value: float | None
    stderr: float | None
    method: str  # PAIRED | UNPAIRED | "" when nothing could be computed
    n_items: int | None = None
    note: str = ""

    @property
    def margin(self) -> float | None:
        return None if self.stderr is None else Z_95 * self.stderr

    @property
    def low(self) -> float | None:
        if self.value is None or self.margin is None:
            return None
        return self.value - self.margin

    @property
    def high(self) -> float | None:
        if self.value is None or self.margin is None:
            return None
        return self.value + self.margin


@dataclass
class BenchmarkRow:
    benchmark: Benchmark
    scores: list[Score | None]
    differences: list[Difference]


@dataclass
class ComparisonTable:
    suite: str
    columns: list[ModelColumn]
    rows: list[BenchmarkRow]

    @property
    def missing_runs(self) -> list[str]:
        return [column.hub_id for column in self.columns if column.run is None]


def parse_model_ids(raw: list[str]) -> list[str]:
    """Model ids from ``models=a,b`` and repeated ``model=`` fields; 2–5 distinct ones."""
    names = [part.strip() for value in raw for part in value.split(",") if part.strip()]
    unique = list(dict.fromkeys(names))
    if len(unique) < MIN_MODELS:
        raise ComparisonError(f"Name at least {MIN_MODELS} different models to compare.")
    if len(unique) > MAX_MODELS:
        raise ComparisonError(
            f"At most {MAX_MODELS} models can be compared at once; {len(unique)} were named."
        )
    return unique


def compare(model_ids: list[str], suite: str) -> ComparisonTable:
    """The comparison table; raises ComparisonError for an unknown suite or model."""
    if suite not in SUITES:
        raise ComparisonError(f"Unknown suite “{suite}”. Known: {', '.join(SUITES)}.")
    repos = {repo.hub_id: repo for repo in ModelRepo.objects.filter(hub_id__in=model_ids)}
    unknown = [hub_id for hub_id in model_ids if hub_id not in repos]
    if unknown:
        raise ComparisonError(f"No model named {', '.join(unknown)} is known here.")
    runs = _latest_suite_runs(list(repos.values()), suite)
    columns = [_column(hub_id, runs.get(repos[hub_id].id)) for hub_id in model_ids]
    samples = _SamplesCache()
    rows = [_benchmark_row(benchmark, columns, samples) for benchmark in suite_benchmarks(suite)]
    return ComparisonTable(suite=suite, columns=columns, rows=rows)


def _latest_suite_runs(repos: list[ModelRepo], suite: str) -> dict[int, EvaluationRun]:
    runs = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__suite=suite, submission__repo__in=repos)
        .select_related("submission__repo", "revision")
        .prefetch_related("scores", "artifacts")
        .order_by("-finished_at", "-id")
    )
    latest: dict[int, EvaluationRun] = {}
    for run in runs:
        latest.setdefault(run.submission.repo_id, run)
    return latest


def _column(hub_id: str, run: EvaluationRun | None) -> ModelColumn:
    scores = {score.benchmark: score for score in run.scores.all()} if run else {}
    return ModelColumn(hub_id=hub_id, run=run, scores=scores)


def _benchmark_row(
    benchmark: Benchmark, columns: list[ModelColumn], samples: _SamplesCache
) -> BenchmarkRow:
    first = columns[0]
    differences = [_difference(benchmark, first, other, samples) for other in columns[1:]]
    return BenchmarkRow(
        benchmark=benchmark,
        scores=[column.scores.get(benchmark.key) for column in columns],
        differences=differences,
    )


def _difference(
    benchmark: Benchmark, first: ModelColumn, other: ModelColumn, samples: _SamplesCache
) -> Difference:
    a, b = first.scores.get(benchmark.key), other.scores.get(benchmark.key)
    if a is None or b is None:
        return Difference(other.hub_id, None, None, "", note="not measured for both models")
    assert first.run is not None and other.run is not None
    setting = _setting_note(a, first.run, b, other.run)
    items_a, why_a = samples.items(first.run, benchmark)
    items_b, why_b = samples.items(other.run, benchmark)
    if items_a is not None and items_b is not None:
        paired = paired_difference(items_a, items_b)
        if paired is not None:
            value, stderr, n = paired
            return Difference(other.hub_id, value, stderr, PAIRED, n, setting)
        why_a = "the two runs did not answer the same items"
    return _unpaired(other.hub_id, a, b, "; ".join(filter(None, [why_a or why_b, setting])))


def _unpaired(other: str, a: Score, b: Score, note: str) -> Difference:
    if a.stderr is None or b.stderr is None:
        note = "; ".join(filter(None, [note, "a standard error is missing, so no interval"]))
        return Difference(other, a.value - b.value, None, UNPAIRED, note=note)
    return Difference(other, a.value - b.value, math.hypot(a.stderr, b.stderr), UNPAIRED, note=note)


def _setting_note(a: Score, run_a: EvaluationRun, b: Score, run_b: EvaluationRun) -> str:
    notes = []
    if a.shots != b.shots:
        notes.append(f"settings differ: {a.shots}-shot vs {b.shots}-shot")
    if run_a.submission.chat_template != run_b.submission.chat_template:
        notes.append("settings differ: one run used the chat template, the other did not")
    return "; ".join(notes)


def paired_difference(first: ItemValues, other: ItemValues) -> tuple[float, float, int] | None:
    """Mean of per-item differences, its standard error sd/sqrt(n), and n; None unless both
    hold exactly the same items (at least two)."""
    if len(first) < 2 or first.keys() != other.keys():
        return None
    diffs = [first[key] - other[key] for key in first]
    n = len(diffs)
    mean = math.fsum(diffs) / n
    variance = math.fsum((d - mean) ** 2 for d in diffs) / (n - 1)
    return mean, math.sqrt(variance) / math.sqrt(n), n


# --- Per-sample outputs -------------------------------------------------------------------


class _SamplesCache:
    """Each run's samples file is read at most once per page, for all its benchmarks."""

    def __init__(self) -> None:
        self._by_run: dict[int, tuple[dict[str, ItemValues] | None, str]] = {}

    def items(self, run: EvaluationRun, benchmark: Benchmark) -> tuple[ItemValues | None, str]:
        if run.id not in self._by_run:
            self._by_run[run.id] = read_samples(run)
        by_benchmark, why = self._by_run[run.id]
        if by_benchmark is None:
            return None, why
        values = by_benchmark.get(benchmark.key)
        if not values:
            return None, f"run #{run.id} logged no per-item {benchmark.metric} values"
        return values, ""


def read_samples(run: EvaluationRun) -> tuple[dict[str, ItemValues] | None, str]:
    """Per benchmark of the run, (task, doc_id, filter) → the metric's per-item value; or
    None and the reason the file could not be used."""
    artifact = next((a for a in run.artifacts.all() if a.kind == RunArtifact.Kind.SAMPLES), None)
    if artifact is None:
        return None, f"run #{run.id} kept no per-sample outputs"
    try:
        path = artifact_path(artifact.path)
        if path.stat().st_size > MAX_SAMPLES_BYTES:
            return None, f"the per-sample file of run #{run.id} is too large to read here"
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            return _item_values(lines, suite_benchmarks(run.submission.suite)), ""
    except FileNotFoundError:
        return None, f"the per-sample file of run #{run.id} is missing from storage"
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return None, f"the per-sample file of run #{run.id} could not be read"


def _item_values(lines: Iterable[str], benchmarks: list[Benchmark]) -> dict[str, ItemValues]:
    found: dict[str, ItemValues] = {}
    for line in lines:
        if not line.strip():
            continue
        sample = json.loads(line)
        task = str(sample.get("task", ""))
        benchmark = _owner(task, benchmarks)
        if benchmark is None or sample.get("filter") != benchmark.filter:
            continue
        value = sample.get(benchmark.metric)
        if (
            benchmark.metric not in sample.get("metrics", [benchmark.metric])
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            continue
        key = (task, str(sample.get("doc_id")), benchmark.filter)
        found.setdefault(benchmark.key, {})[key] = float(value)
    return found


def _owner(task: str, benchmarks: list[Benchmark]) -> Benchmark | None:
    """The benchmark a sample's task belongs to: the task itself, or a subtask of a group
    (``mmlu_anatomy`` of ``mmlu``); the longest matching name wins."""
    matches = [b for b in benchmarks if task == b.task or task.startswith(b.task + "_")]
    return max(matches, key=lambda b: len(b.task), default=None)


# --- Scatter: claimed vs measured ---------------------------------------------------------


@dataclass(frozen=True)
class ScatterPoint:
    hub_id: str
    claim_id: int
    claimed: float
    measured: float
    measured_stderr: float | None
    shots: int
    chat_template: bool
    run_id: int
    flagged: bool
    verdict: str
    explanation: str

    @property
    def gap(self) -> float:
        """claimed − measured: positive where the claim is higher."""
        return self.claimed - self.measured


@dataclass
class Scatter:
    benchmark: Benchmark
    points: list[ScatterPoint]
    unmatched: int  # current claims of the benchmark with no measurement to compare


SCATTER_ROWS_PER_PAGE = 100


@dataclass(frozen=True)
class ScatterRows:
    """One page of the scatter's table (the figure keeps every point)."""

    points: list[ScatterPoint]
    page: int  # the page shown: a page past the end shows the last one
    num_pages: int
    total: int
    flagged: int  # flagged points on all pages

    @property
    def start(self) -> int:
        return (self.page - 1) * SCATTER_ROWS_PER_PAGE + 1 if self.points else 0

    @property
    def end(self) -> int:
        return self.start + len(self.points) - 1 if self.points else 0


def scatter_rows(points: list[ScatterPoint], page: int) -> ScatterRows:
    """Flagged claims first, then the largest over-claim first: the rows a reader came for
    lead, and a page of a few thousand points stays a page."""
    ordered = sorted(points, key=lambda p: (not p.flagged, -p.gap, p.hub_id, p.claim_id))
    num_pages = max(1, math.ceil(len(ordered) / SCATTER_ROWS_PER_PAGE))
    page = min(page, num_pages)
    start = (page - 1) * SCATTER_ROWS_PER_PAGE
    return ScatterRows(
        points=ordered[start : start + SCATTER_ROWS_PER_PAGE],
        page=page,
        num_pages=num_pages,
        total=len(ordered),
        flagged=sum(point.flagged for point in ordered),
    )


def default_scatter_benchmark() -> str:
    """The benchmark with the most current claims; the first of the catalogue if none."""
    counts: dict[str, int] = {}
    for key in Claim.objects.current().exclude(benchmark="").values_list("benchmark", flat=True):
        counts[key] = counts.get(key, 0) + 1
    known = {key: count for key, count in counts.items() if key in BENCHMARKS}
    return max(known, key=lambda key: known[key]) if known else next(iter(BENCHMARKS))


def scatter(benchmark_key: str) -> Scatter:
    """Every current claim of the benchmark with the measurement in its setting and its
    verdict, from the one matcher the model page and the rankings use. Flagged means a flag
    that stands in public: a moderator's decision outranks the automatic verdict."""
    if benchmark_key not in BENCHMARKS:
        raise ComparisonError(f"Unknown benchmark “{benchmark_key}”.")
    repo_ids = Claim.objects.current().filter(benchmark=benchmark_key).values("repo_id")
    rows = [
        row
        for repo_rows in evidence_for_repos(repo_ids).values()
        for row in repo_rows
        if row.claim.benchmark == benchmark_key
    ]
    points = [_point(row) for row in rows if row.score is not None]
    points.sort(key=lambda point: (point.hub_id, point.claim_id))
    return Scatter(BENCHMARKS[benchmark_key], points, unmatched=len(rows) - len(points))


def _point(row: ClaimEvidence) -> ScatterPoint:
    claim, score = row.claim, row.score
    assert score is not None and claim.value is not None
    return ScatterPoint(
        hub_id=claim.repo.hub_id,
        claim_id=claim.id,
        claimed=claim.value,
        measured=score.value,
        measured_stderr=score.stderr,
        shots=score.shots,
        chat_template=bool(claim.chat_template),
        run_id=score.run_id,
        flagged=row.verdict == Verdict.CONTRADICTED,
        verdict=str(row.verdict),
        explanation=row.sentence,
    )
