"""Compare models (paired or unpaired differences) and claimed vs measured, as reads."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pytest

from evaluations import services
from evaluations.models import ClaimSource, EvaluationRun, RunArtifact
from evaluations.selectors import comparison
from evaluations.selectors.comparison import PAIRED, UNPAIRED, ComparisonError
from evaluations.services.claims import ClaimInput
from tests.factories import SHA_B, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

ALICE, BOB, CAROL = "alice-lab/strong", "bob-lab/weak", "carol-lab/other"


@pytest.fixture
def artifacts_dir(settings: Any, tmp_path: Path) -> Path:
    settings.ARTIFACTS_DIR = tmp_path
    return tmp_path


def arc_lines(values: list[float], *, first_doc: int = 0) -> list[dict[str, Any]]:
    """Per-sample lines as lm-eval logs them (plus the task name write_outputs adds)."""
    return [
        {
            "task": "smoke_arc",
            "doc_id": first_doc + i,
            "filter": "none",
            "metrics": ["acc"],
            "acc": value,
            "doc_hash": f"h{i}",
        }
        for i, value in enumerate(values)
    ]


def store_samples(run: EvaluationRun, root: Path, lines: list[dict[str, Any]]) -> None:
    relative = f"run-{run.id}/samples.jsonl.gz"
    (root / f"run-{run.id}").mkdir(parents=True, exist_ok=True)
    with gzip.open(root / relative, "wt") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    RunArtifact.objects.create(
        run=run,
        kind="samples",
        path=relative,
        sha256="0" * 64,
        size_bytes=(root / relative).stat().st_size,
    )


def arc_difference(table: comparison.ComparisonTable, index: int = 0) -> comparison.Difference:
    row = next(row for row in table.rows if row.benchmark.key == "smoke_arc")
    return row.differences[index]


# --- Choosing the models -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, message",
    [
        (["alice-lab/strong"], "at least 2"),
        (["a/a,a/a"], "at least 2"),
        (["a/1,a/2,a/3,a/4,a/5,a/6"], "At most 5"),
    ],
)
def test_it_refuses_too_few_or_too_many_models(raw: list[str], message: str) -> None:
    with pytest.raises(ComparisonError, match=message):
        comparison.parse_model_ids(raw)


def test_it_reads_commas_and_repeated_fields_in_order() -> None:
    assert comparison.parse_model_ids(["a/1, a/2", "a/3", ""]) == ["a/1", "a/2", "a/3"]


def test_it_refuses_an_unknown_model_and_an_unknown_suite() -> None:
    finished_run(ALICE)
    with pytest.raises(ComparisonError, match="nobody/here"):
        comparison.compare([ALICE, "nobody/here"], "smoke")
    with pytest.raises(ComparisonError, match="Unknown suite"):
        comparison.compare([ALICE, BOB], "bogus")


# --- Paired vs unpaired --------------------------------------------------------------------


def test_it_pairs_the_difference_when_both_runs_answered_the_same_items(
    artifacts_dir: Path,
) -> None:
    strong, weak = finished_run(ALICE, value=0.75), finished_run(BOB, value=0.25)
    store_samples(strong, artifacts_dir, arc_lines([1, 1, 0, 1]))
    store_samples(weak, artifacts_dir, arc_lines([1, 0, 0, 0]))

    difference = arc_difference(comparison.compare([ALICE, BOB], "smoke"))

    # Differences 0, 1, 0, 1: mean 0.5, sd = sqrt(4 · 0.25 / 3), stderr = sd / sqrt(4).
    assert difference.method == PAIRED and difference.n_items == 4
    assert difference.value == pytest.approx(0.5)
    assert difference.stderr == pytest.approx(math.sqrt(1 / 3) / 2)
    assert difference.low == pytest.approx(0.5 - 1.959964 * 0.288675, abs=1e-5)
    assert difference.high == pytest.approx(0.5 + 1.959964 * 0.288675, abs=1e-5)


def test_it_ignores_other_filters_and_metrics_when_pairing(artifacts_dir: Path) -> None:
    strong, weak = finished_run(ALICE, value=0.75), finished_run(BOB, value=0.25)
    noise = [
        {"task": "smoke_arc", "doc_id": 0, "filter": "other", "metrics": ["acc"], "acc": 0},
        {
            "task": "smoke_gsm8k",
            "doc_id": 0,
            "filter": "strict-match",
            "metrics": ["exact_match"],
            "exact_match": 1.0,
        },
    ]
    store_samples(strong, artifacts_dir, arc_lines([1, 1, 0, 1]) + noise)
    store_samples(weak, artifacts_dir, arc_lines([1, 0, 0, 0]))

    difference = arc_difference(comparison.compare([ALICE, BOB], "smoke"))

    assert difference.method == PAIRED and difference.value == pytest.approx(0.5)


def test_it_falls_back_to_unpaired_without_samples() -> None:
    finished_run(ALICE, value=0.75)
    finished_run(BOB, value=0.25)

    table = comparison.compare([ALICE, BOB], "smoke")
    difference = arc_difference(table)

    assert difference.method == UNPAIRED
    assert difference.value == pytest.approx(0.5)
    assert difference.stderr == pytest.approx(math.sqrt(0.05**2 + 0.05**2))
    assert "kept no per-sample outputs" in difference.note
    gsm8k = next(row for row in table.rows if row.benchmark.key == "smoke_gsm8k")
    assert gsm8k.differences[0].stderr is None and "no interval" in gsm8k.differences[0].note


def test_it_falls_back_to_unpaired_when_the_items_differ(artifacts_dir: Path) -> None:
    strong, weak = finished_run(ALICE, value=0.75), finished_run(BOB, value=0.25)
    store_samples(strong, artifacts_dir, arc_lines([1, 1, 0, 1]))
    store_samples(weak, artifacts_dir, arc_lines([1, 0, 0, 0], first_doc=2))

    difference = arc_difference(comparison.compare([ALICE, BOB], "smoke"))

    assert difference.method == UNPAIRED and "not answer the same items" in difference.note
    assert difference.value == pytest.approx(0.5)


def test_it_falls_back_to_unpaired_when_a_file_is_missing(artifacts_dir: Path) -> None:
    strong, weak = finished_run(ALICE, value=0.75), finished_run(BOB, value=0.25)
    store_samples(strong, artifacts_dir, arc_lines([1, 1, 0, 1]))
    RunArtifact.objects.create(
        run=weak,
        kind="samples",
        path=f"run-{weak.id}/gone.jsonl.gz",
        sha256="0" * 64,
        size_bytes=10,
    )

    difference = arc_difference(comparison.compare([ALICE, BOB], "smoke"))

    assert difference.method == UNPAIRED and "missing from storage" in difference.note


def test_it_does_not_read_a_samples_file_over_the_limit(
    artifacts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strong, weak = finished_run(ALICE, value=0.75), finished_run(BOB, value=0.25)
    store_samples(strong, artifacts_dir, arc_lines([1, 1, 0, 1]))
    store_samples(weak, artifacts_dir, arc_lines([1, 0, 0, 0]))
    monkeypatch.setattr(comparison, "MAX_SAMPLES_BYTES", 10)

    difference = arc_difference(comparison.compare([ALICE, BOB], "smoke"))

    assert difference.method == UNPAIRED and "too large" in difference.note


def test_it_compares_the_first_model_with_each_other_one(artifacts_dir: Path) -> None:
    finished_run(ALICE, value=0.75)
    finished_run(BOB, value=0.25)
    finished_run(CAROL, value=0.5)

    table = comparison.compare([ALICE, BOB, CAROL], "smoke")

    assert [column.hub_id for column in table.columns] == [ALICE, BOB, CAROL]
    assert [d.other for d in table.rows[0].differences] == [BOB, CAROL]
    assert [d.value for d in table.rows[0].differences] == pytest.approx([0.5, 0.25])


def test_it_uses_the_latest_finished_whole_suite_run() -> None:
    finished_run(ALICE, value=0.6)
    finished_run(ALICE, sha=SHA_B, value=0.75)
    finished_run(BOB, value=0.25)

    table = comparison.compare([ALICE, BOB], "smoke")

    assert table.rows[0].scores[0].value == 0.75


def test_it_shows_a_model_without_a_run_as_an_empty_column() -> None:
    finished_run(ALICE, value=0.75)
    services.claims_record(
        repo_id=BOB,
        claims=[ClaimInput(benchmark="smoke_arc", value=0.5, shots=0)],
        source=ClaimSource.API,
    )

    table = comparison.compare([ALICE, BOB], "smoke")

    assert table.missing_runs == [BOB]
    assert table.rows[0].scores[1] is None and table.rows[0].differences[0].method == ""


# --- Claimed vs measured --------------------------------------------------------------------


def claim(repo_id: str, value: float, shots: int = 0) -> None:
    services.claims_record(
        repo_id=repo_id,
        source=ClaimSource.API,
        claims=[ClaimInput(benchmark="smoke_arc", value=value, shots=shots)],
    )


def test_it_pairs_each_comparable_claim_with_its_measurement() -> None:
    finished_run(ALICE, value=0.5)
    finished_run(BOB, value=0.6)
    claim(ALICE, 0.9)  # far above the measurement: flagged
    claim(BOB, 0.55)  # below: an under-claim
    claim(CAROL, 0.7)  # never measured: not shown

    result = comparison.scatter("smoke_arc")

    by_model = {point.hub_id: point for point in result.points}
    assert set(by_model) == {ALICE, BOB} and result.unmatched == 1
    assert by_model[ALICE].flagged and by_model[ALICE].verdict == "contradicted"
    assert by_model[ALICE].claimed == 0.9 and by_model[ALICE].measured == 0.5
    assert "Claimed 90.0, measured 50.0" in by_model[ALICE].explanation
    assert not by_model[BOB].flagged and by_model[BOB].verdict == "under-claim"


def test_it_leaves_out_a_claim_in_another_setting() -> None:
    finished_run(ALICE, value=0.5)
    claim(ALICE, 0.9, shots=5)

    result = comparison.scatter("smoke_arc")

    assert result.points == [] and result.unmatched == 1


def test_it_refuses_an_unknown_benchmark() -> None:
    with pytest.raises(ComparisonError, match="Unknown benchmark"):
        comparison.scatter("nope")


def test_it_defaults_to_the_benchmark_with_the_most_claims() -> None:
    assert comparison.default_scatter_benchmark() in comparison.BENCHMARKS
    services.claims_record(
        repo_id=ALICE,
        source=ClaimSource.API,
        claims=[ClaimInput(benchmark="gsm8k", value=0.5, shots=5)],
    )
    assert comparison.default_scatter_benchmark() == "gsm8k"
