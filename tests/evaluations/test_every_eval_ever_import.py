"""Importing an Every Eval Ever record as claims, and the two management commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from evaluations.every_eval_ever import run_record
from evaluations.models import Claim, ClaimSource, Flag
from evaluations.services.every_eval_ever import claims_import_every_eval_ever
from tests.every_eval_ever_support import first_party_record, run_with_samples, schema_errors
from tests.factories import SHA_A, finished_run, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

PUBLISHED = "https://example.org/evals/tiny.json"


def third_party_record() -> dict:
    record = first_party_record()
    record["source_metadata"] = {
        **record["source_metadata"],
        "source_organization_name": "Some Lab",
        "evaluator_relationship": "third_party",
    }
    return record


# --- The service -------------------------------------------------------------------------


def test_it_records_a_developer_record_as_author_claims() -> None:
    outcome = claims_import_every_eval_ever(record=first_party_record())
    claim = Claim.objects.get()
    assert outcome.claims == [claim]
    assert claim.source == ClaimSource.EVERY_EVAL_EVER
    assert claim.reported_by == "demo-org"
    assert claim.source_name == "Every Eval Ever: smoke_arc/demo-org/tiny/1750000000"
    assert (claim.benchmark, claim.metric, claim.filter, claim.shots) == (
        "smoke_arc",
        "acc",
        "none",
        0,
    )
    assert (claim.value, claim.stated_stderr) == (0.95, 0.01)


def test_its_claims_are_judged_against_our_measurement() -> None:
    finished_run("demo-org/tiny", value=0.5)  # measured 50 % ± 5 %, claimed 95 % ± 1 %
    claims_import_every_eval_ever(record=first_party_record())
    assert Flag.objects.get().claim.source == ClaimSource.EVERY_EVAL_EVER


def test_it_pins_the_claims_to_the_commit_the_record_names() -> None:
    run = finished_run("demo-org/tiny")
    record = first_party_record()
    record["model_info"]["additional_details"]["sha"] = SHA_A
    claims_import_every_eval_ever(record=record)
    assert Claim.objects.get().revision == run.revision


def test_it_refuses_a_record_about_a_commit_not_evaluated_here() -> None:
    finished_run("demo-org/tiny")
    record = first_party_record()
    record["model_info"]["additional_details"]["sha"] = "c" * 40
    with pytest.raises(ValidationError, match="has not been evaluated here"):
        claims_import_every_eval_ever(record=record)
    assert not Claim.objects.exists()


def test_it_imports_a_record_once() -> None:
    claims_import_every_eval_ever(record=first_party_record())
    again = claims_import_every_eval_ever(record=first_party_record())
    assert again.already_imported
    assert again.claims == []
    assert Claim.objects.count() == 1


def test_it_refuses_a_third_party_record_as_the_authors_claims() -> None:
    with pytest.raises(ValidationError, match="evaluator_relationship is third_party") as caught:
        claims_import_every_eval_ever(record=third_party_record())
    assert "not the author's claims" in caught.value.messages[0]
    assert not Claim.objects.exists()


def test_it_refuses_our_own_record_as_the_authors_claims() -> None:
    with pytest.raises(ValidationError, match="third_party"):
        claims_import_every_eval_ever(record=run_record(run_with_samples(), base_url="http://x"))


def test_it_records_a_third_party_record_as_third_party_claims_with_their_link() -> None:
    claims_import_every_eval_ever(
        record=third_party_record(), third_party=True, source_url=PUBLISHED
    )
    claim = Claim.objects.get()
    assert (claim.source, claim.reported_by, claim.source_url) == (
        ClaimSource.THIRD_PARTY,
        "Some Lab",
        PUBLISHED,
    )


def test_a_third_party_claim_needs_its_link() -> None:
    with pytest.raises(ValidationError, match="needs a link"):
        claims_import_every_eval_ever(record=third_party_record(), third_party=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"evaluation_id": "x\x00y"}, "evaluation_id contains a NUL character"),
        (
            {"source_metadata": {"evaluator_relationship": "first_party\x00"}},
            "NUL character",
        ),
        ({"evaluation_results": [{"evaluation_name": "a\x00"}]}, "evaluation_name contains a NUL"),
        ({"evaluation_results": [{"evaluation_name": "a"}]}, r"\[0\]\.metric_config must be"),
        ({"model_info": "demo-org/tiny"}, "model_info must be a JSON object"),
    ],
)
def test_it_refuses_a_hostile_record_with_a_sentence(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        claims_import_every_eval_ever(record=first_party_record(**change))
    assert not Claim.objects.exists()


def test_it_reads_a_label_with_a_nul_as_a_refusal_not_a_database_error() -> None:
    record = first_party_record()
    record["evaluation_results"][0]["metric_config"]["metric_name"] = "acc\x00"
    with pytest.raises(ValidationError, match="NUL character"):
        claims_import_every_eval_ever(record=record)


def test_it_ignores_a_commit_that_is_not_a_full_sha() -> None:
    finished_run("demo-org/tiny")
    record = first_party_record()
    record["model_info"]["additional_details"]["sha"] = "a\x00" * 20
    claims_import_every_eval_ever(record=record)
    assert Claim.objects.get().revision is None


def test_it_refuses_a_value_outside_the_stated_range() -> None:
    record = first_party_record()
    record["evaluation_results"][0]["score_details"]["score"] = 1.5
    with pytest.raises(ValidationError, match="outside 0–1"):
        claims_import_every_eval_ever(record=record)


def test_it_refuses_a_link_that_is_not_http() -> None:
    with pytest.raises(ValidationError, match="http"):
        claims_import_every_eval_ever(
            record=third_party_record(), third_party=True, source_url="javascript:alert(1)"
        )


# --- manage.py every_eval_ever_import ----------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "record.json"
    path.write_text(text)
    return path


def run_import(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("every_eval_ever_import", *args, stdout=out)
    return out.getvalue()


def test_the_import_command_records_the_claims(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(first_party_record()))
    assert "1 every-eval-ever claims of demo-org/tiny" in run_import(str(path))
    assert "already imported" in run_import(str(path))
    assert Claim.objects.count() == 1


def test_the_import_command_records_third_party_claims_when_told(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(third_party_record()))
    with pytest.raises(CommandError, match="not the author's claims"):
        run_import(str(path))
    run_import(str(path), "--third-party", "--source-url", PUBLISHED)
    assert Claim.objects.get().source == ClaimSource.THIRD_PARTY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),
        ('{"schema_version": "0.3.0"}', "source_metadata must be a JSON object"),
    ],
)
def test_the_import_command_refuses_a_broken_file_in_one_sentence(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run_import(str(write(tmp_path, text)))


def test_the_import_command_refuses_a_file_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="could not be read"):
        run_import(str(tmp_path / "missing.json"))


def test_the_import_command_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(CommandError, match="could not be read"):
        run_import(str(path))


# --- manage.py every_eval_ever_export ----------------------------------------------------


def test_the_export_command_writes_one_runs_record(tmp_path: Path) -> None:
    run = run_with_samples()
    out = tmp_path / "run.json"
    call_command("every_eval_ever_export", "--run", str(run.id), "--out", str(out))
    record = json.loads(out.read_text())
    assert schema_errors(record) == []
    assert record["evaluation_id"] == f"claimcheck/demo-org/tiny/run-{run.id}"


def test_the_export_command_writes_every_finished_run_in_the_datastore_layout(
    tmp_path: Path,
) -> None:
    first, second = run_with_samples("demo-org/tiny"), run_with_samples("other-lab/small")
    queued_run("demo-org/waiting")
    call_command("every_eval_ever_export", "--all", "--out", str(tmp_path))
    files = sorted(tmp_path.rglob("*.json"))
    assert [f.relative_to(tmp_path).parts[:4] for f in files] == [
        ("data", "claimcheck", "demo-org", "tiny"),
        ("data", "claimcheck", "other-lab", "small"),
    ]
    records = [json.loads(f.read_text()) for f in files]
    assert [r["source_metadata"]["additional_details"]["run_id"] for r in records] == [
        str(first.id),
        str(second.id),
    ]
    for path, record in zip(files, records, strict=True):
        assert schema_errors(record) == []
        samples = record["detailed_evaluation_results"]["file_path"]
        assert samples == str(path.relative_to(tmp_path)).replace(".json", "_samples.jsonl")


def test_the_export_command_refuses_a_run_that_has_not_finished(tmp_path: Path) -> None:
    run = queued_run()
    with pytest.raises(CommandError, match="not finished"):
        call_command("every_eval_ever_export", "--run", str(run.id), "--out", "-")
    with pytest.raises(CommandError, match="There is no run 999999"):
        call_command("every_eval_ever_export", "--run", "999999", "--out", "-")
