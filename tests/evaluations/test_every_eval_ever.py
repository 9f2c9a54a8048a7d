"""Every Eval Ever records: a finished run written out, and records read back as claims."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluations import every_eval_ever, services
from evaluations.every_eval_ever import RecordError, read_record, run_record
from evaluations.models import EvaluationRun, RunState
from tests.every_eval_ever_support import (
    SAMPLES_SHA,
    first_party_record,
    run_with_samples,
    schema_errors,
)
from tests.factories import SHA_A, finished_run, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

BASE = "https://claimcheck.example"


def results_by_name(record: dict) -> dict[str, dict]:
    return {result["evaluation_name"]: result for result in record["evaluation_results"]}


# --- Export ------------------------------------------------------------------------------


def test_it_exports_a_finished_run_that_the_schema_accepts() -> None:
    record = run_record(run_with_samples(), base_url=BASE)
    assert schema_errors(record) == []


def test_it_exports_a_run_without_artifacts_that_the_schema_accepts() -> None:
    record = run_record(finished_run(), base_url=BASE)
    assert schema_errors(record) == []
    assert "detailed_evaluation_results" not in record


def test_it_says_we_measured_the_model_as_a_third_party() -> None:
    run = run_with_samples()
    record = run_record(run, base_url=BASE)
    assert record["source_metadata"]["evaluator_relationship"] == "third_party"
    assert record["source_metadata"]["source_type"] == "evaluation_run"
    assert record["source_metadata"]["additional_details"]["run_url"] == f"{BASE}/runs/{run.id}/"
    assert record["model_info"]["id"] == "demo-org/tiny"
    assert record["model_info"]["additional_details"]["sha"] == SHA_A
    assert record["eval_library"] == {
        "name": "lm_eval",
        "version": "0.4.13",
        "additional_details": {"transformers_version": "5.24.0"},
    }
    assert record["model_info"]["inference_engine"] == {
        "name": "transformers",
        "version": "5.24.0",
    }


def test_it_gives_each_score_its_standard_error_interval_and_items() -> None:
    arc = results_by_name(run_record(run_with_samples(), base_url=BASE))["smoke_arc"]
    assert arc["score_details"]["score"] == 0.6
    uncertainty = arc["score_details"]["uncertainty"]
    assert uncertainty["standard_error"]["value"] == 0.04
    assert "standard error of the mean" in uncertainty["standard_error"]["method"]
    interval = uncertainty["confidence_interval"]
    assert interval["confidence_level"] == 0.95
    assert interval["lower"] == pytest.approx(0.6 - 1.96 * 0.04, abs=1e-4)
    assert interval["upper"] == pytest.approx(0.6 + 1.96 * 0.04, abs=1e-4)
    assert "1.96" in interval["method"]
    assert uncertainty["num_samples"] == 40
    assert arc["generation_config"]["additional_details"]["num_fewshot"] == "0"
    assert arc["metric_config"]["metric_name"] == "acc"
    assert arc["metric_config"]["metric_id"] == "accuracy"


def test_it_clips_the_interval_to_the_range_of_a_fraction() -> None:
    run = finished_run(value=0.99)  # ± 1.96 × 0.05 would pass 1
    arc = results_by_name(run_record(run, base_url=BASE))["smoke_arc"]
    assert arc["score_details"]["uncertainty"]["confidence_interval"]["upper"] == 1.0


def test_it_leaves_out_the_standard_error_lm_eval_did_not_give() -> None:
    results = results_by_name(run_record(run_with_samples(), base_url=BASE))
    gsm8k = results["smoke_gsm8k/flexible-extract"]  # lm-eval's task/filter naming
    assert gsm8k["score_details"]["uncertainty"] == {"num_samples": 20}


def test_it_names_the_per_sample_file_by_its_sha256() -> None:
    run = run_with_samples()
    detailed = run_record(run, base_url=BASE)["detailed_evaluation_results"]
    assert detailed["checksum"] == SAMPLES_SHA
    assert detailed["hash_algorithm"] == "sha256"
    assert detailed["additional_details"]["url"] == f"{BASE}/runs/{run.id}/artifacts/samples/"
    assert re.fullmatch(
        r"data/claimcheck/demo-org/tiny/[0-9a-f-]{36}_samples\.jsonl", detailed["file_path"]
    )


def test_it_exports_the_same_record_every_time() -> None:
    run = run_with_samples()
    assert run_record(run, base_url=BASE) == run_record(run, base_url=BASE)
    other = run_with_samples("demo-org/other")
    assert every_eval_ever.record_uuid(run) != every_eval_ever.record_uuid(other)


def test_it_refuses_a_run_that_has_not_finished() -> None:
    run = queued_run()
    with pytest.raises(RecordError, match=f"Run {run.id} is queued, not finished"):
        run_record(run, base_url=BASE)


def test_it_refuses_a_failed_run() -> None:
    run = queued_run()
    EvaluationRun.objects.filter(id=run.id).update(state=RunState.FAILED)
    run.refresh_from_db()
    with pytest.raises(RecordError, match="not finished"):
        run_record(run, base_url=BASE)


def test_it_refuses_a_duplicate_run_and_names_the_one_to_export() -> None:
    original = finished_run()
    duplicate = queued_run()
    assert services.run_claim(run_id=duplicate.id, worker_name="worker-1", task_id="task-2")
    files = [{"path": "model.safetensors", "size": 10, "sha256": "0" * 64}]
    assert services.run_record_inspection(
        run_id=duplicate.id,
        commit_sha=SHA_A,
        files=files,
        parameter_count=1000,
        dtype="F32",
        licence="mit",
        model_type="llama",
    )
    duplicate = EvaluationRun.objects.get(id=duplicate.id)
    assert (duplicate.state, duplicate.duplicate_of_id) == (RunState.FINISHED, original.id)
    with pytest.raises(RecordError, match=f"by run {original.id}; export that one"):
        run_record(duplicate, base_url=BASE)


# --- Import: reading a record ------------------------------------------------------------


def test_our_own_record_reads_back_as_the_same_measurements() -> None:
    read = read_record(run_record(run_with_samples(), base_url=BASE))
    assert read.evaluator_relationship == "third_party"
    assert read.repo_id == "demo-org/tiny"
    assert read.commit_sha == SHA_A
    arc, gsm8k = read.claims
    assert (arc.benchmark, arc.metric, arc.filter, arc.shots) == ("smoke_arc", "acc", "none", 0)
    assert (arc.value, arc.unit, arc.stated_stderr, arc.chat_template) == (
        0.6,
        "fraction",
        0.04,
        False,
    )
    assert (gsm8k.benchmark, gsm8k.filter, gsm8k.stated_stderr) == (
        "smoke_gsm8k",
        "flexible-extract",
        None,
    )


def test_the_first_party_example_is_a_valid_record() -> None:
    assert schema_errors(first_party_record()) == []


def test_it_reads_a_developer_record_written_by_lm_eval_conventions() -> None:
    record = first_party_record()
    record["evaluation_results"][0]["evaluation_name"] = "smoke_gsm8k/strict-match"
    record["evaluation_results"][0]["metric_config"]["metric_name"] = "exact_match"
    claim = read_record(record).claims[0]
    assert (claim.benchmark, claim.metric, claim.filter) == (
        "smoke_gsm8k",
        "exact_match",
        "strict-match",
    )
    assert claim.shots == 0
    assert claim.chat_template is None  # not stated: not assumed


def test_it_reads_each_metric_of_a_record_from_the_projects_lm_eval_converter() -> None:
    """That converter names a metric only in evaluation_description, one result per metric."""
    record = first_party_record()
    template = record["evaluation_results"][0]
    results = []
    for description, score in [("acc", 0.9), ("acc_norm", 0.92)]:
        result = copy.deepcopy(template)
        del result["metric_config"]["metric_name"]
        result["metric_config"]["evaluation_description"] = description
        result["score_details"]["score"] = score
        results.append(result)
    gsm8k = copy.deepcopy(template)
    del gsm8k["metric_config"]["metric_name"]
    gsm8k["evaluation_name"] = "smoke_gsm8k/strict-match"
    gsm8k["metric_config"]["evaluation_description"] = "exact_match (filter: strict-match)"
    record["evaluation_results"] = [*results, gsm8k]
    assert schema_errors(record) == []
    acc, acc_norm, exact = read_record(record).claims
    assert [(c.benchmark, c.metric, c.value) for c in (acc, acc_norm)] == [
        ("smoke_arc", "acc", 0.9),
        ("smoke_arc", "acc_norm", 0.92),
    ]
    assert (exact.benchmark, exact.metric, exact.filter) == (
        "smoke_gsm8k",
        "exact_match",
        "strict-match",
    )


def test_it_keeps_a_result_that_names_no_metric_out_of_any_comparison() -> None:
    record = first_party_record()
    del record["evaluation_results"][0]["metric_config"]["metric_name"]
    claim = read_record(record).claims[0]
    assert claim.not_comparable_reason == "the record does not name the metric"


def test_it_reads_percent_from_the_stated_range() -> None:
    record = first_party_record()
    config = record["evaluation_results"][0]["metric_config"]
    config["max_score"] = 100
    record["evaluation_results"][0]["score_details"]["score"] = 95
    claim = read_record(record).claims[0]
    assert (claim.value, claim.unit) == (95.0, "percent")


def test_it_keeps_a_score_of_unknown_unit_without_a_value() -> None:
    record = first_party_record()
    config = record["evaluation_results"][0]["metric_config"]
    del config["min_score"], config["max_score"], config["score_type"]
    claim = read_record(record).claims[0]
    assert claim.value is None
    assert claim.typed_value == "0.95"
    assert "neither the unit" in claim.unit_reason


def test_it_leaves_a_benchmark_outside_the_catalogue_unmapped() -> None:
    record = first_party_record()
    record["evaluation_results"][0]["evaluation_name"] = "my_private_bench"
    claim = read_record(record).claims[0]
    assert (claim.benchmark, claim.label) == ("", "my_private_bench")


def test_it_notes_a_metric_said_to_be_lower_is_better() -> None:
    record = first_party_record()
    record["evaluation_results"][0]["metric_config"]["lower_is_better"] = True
    claim = read_record(record).claims[0]
    assert "lower is better" in claim.not_comparable_reason


def broken(path: tuple, value: object) -> dict:
    """The example record with the value at ``path`` replaced (or removed, for ...)."""
    record = copy.deepcopy(first_party_record())
    *parents, last = path
    target = record
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return record


RESULT = ("evaluation_results", 0)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([1, 2], "the record must be a JSON object"),
        ("text", "the record must be a JSON object"),
        ({}, "no schema_version"),
        (broken(("source_metadata",), None), "source_metadata must be a JSON object"),
        (broken(("source_metadata", "evaluator_relationship"), "self"), "must be one of"),
        (broken(("model_info", "id"), "../../etc/passwd"), "not a Hugging Face repo id"),
        (broken(("model_info", "id"), 7), "model_info.id must be non-empty text"),
        (broken(("model_info", "additional_details"), []), "must be a JSON object"),
        (broken(("evaluation_results",), []), "non-empty list"),
        (broken(("evaluation_results",), [{}] * 51), "at most 50"),
        (broken(("evaluation_results",), ["x"]), r"evaluation_results\[0\] must be a JSON"),
        (broken((*RESULT, "score_details", "score"), "95"), "must be a finite number"),
        (broken((*RESULT, "score_details", "score"), True), "must be a finite number"),
        (broken((*RESULT, "score_details", "score"), float("nan")), "finite number"),
        (broken((*RESULT, "score_details", "score"), 10**400), "finite number"),
        (broken((*RESULT, "score_details"), ...), "score_details must be a JSON object"),
        (broken((*RESULT, "evaluation_name"), ""), "evaluation_name must be non-empty"),
        (
            broken((*RESULT, "score_details", "uncertainty", "standard_error", "value"), -1),
            "cannot be negative",
        ),
        (
            broken((*RESULT, "generation_config", "additional_details", "num_fewshot"), "²"),
            "not a number of shots",
        ),
        (
            broken((*RESULT, "generation_config", "additional_details", "num_fewshot"), "9" * 5000),
            "not a number of shots",
        ),
        (broken((*RESULT, "generation_config"), "x"), "generation_config must be a JSON object"),
    ],
)
def test_it_refuses_a_malformed_record_with_a_sentence(record: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        read_record(record)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value, the value itself first."""
    found = [prefix]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in items:
        found.extend(paths(child, (*prefix, key)))
    return found


EXAMPLE_PATHS = paths(first_party_record())[1:]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(EXAMPLE_PATHS), value=JSON)
def test_any_value_anywhere_is_read_or_refused_with_a_sentence(path: tuple, value: object) -> None:
    try:
        read_record(broken(path, value))
    except RecordError as error:
        assert str(error).endswith(".")


@settings(max_examples=50, deadline=None)
@given(value=JSON)
def test_any_json_at_all_is_read_or_refused_with_a_sentence(value: object) -> None:
    with pytest.raises(RecordError):
        read_record(value)
