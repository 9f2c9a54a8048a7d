"""Recording a commit's card claims: every source once, up to the limit, and a run page that
says what was left out and why."""

from __future__ import annotations

import datetime

import pytest

from evaluations import services
from evaluations.models import Claim, EvaluationRun
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH
from tests.evaluations.test_card_eval_results import FULL_ENTRY
from tests.evaluations.test_card_loading import alias_bomb
from tests.factories import inspected_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REPO = "ridge-ai/Ridge-32B"


def card_with(results: int) -> dict:
    """A self-reported model-index of ``results`` GSM8K entries in distinct settings."""
    entries = [
        {"dataset": {"name": f"GSM8K ({shots}-shot)"}, "metrics": [{"type": "em", "value": 0.5}]}
        for shots in range(results)
    ]
    return {"model-index": [{"name": "Ridge-32B", "results": entries}]}


def import_into(run: EvaluationRun, **kwargs) -> EvaluationRun:
    services.card_claims_import(run_id=run.id, **kwargs)
    return EvaluationRun.objects.get(id=run.id)


def test_a_card_over_the_limit_imports_the_first_claims_and_says_how_many_were_left_out() -> None:
    run = import_into(inspected_run(REPO), card_data=card_with(MAX_CLAIMS_PER_BATCH + 10))
    assert Claim.objects.filter(source="model-card").count() == MAX_CLAIMS_PER_BATCH
    assert "holds 60 claims: the first 50 were imported and 10 left out" in run.card_import_note


def test_a_card_at_the_limit_imports_everything_and_says_nothing() -> None:
    run = import_into(inspected_run(REPO), card_data=card_with(MAX_CLAIMS_PER_BATCH))
    assert Claim.objects.filter(source="model-card").count() == MAX_CLAIMS_PER_BATCH
    assert run.card_import_note == ""


def test_a_refused_results_file_costs_the_other_sources_nothing() -> None:
    files = [
        services.ResultsFile(path=".eval_results/bomb.yaml", text=alias_bomb()[4:-4]),
        services.ResultsFile(path=".eval_results/mmlu_pro.yaml", text=FULL_ENTRY),
    ]
    run = import_into(inspected_run(REPO), card_data=card_with(2), results_files=files)
    assert Claim.objects.filter(source="model-card").count() == 2
    assert Claim.objects.filter(source="eval-results").count() == 1
    assert run.card_import_note.startswith("Not imported: .eval_results/bomb.yaml: eval results")
    assert "aliases expand" in run.card_import_note


def test_it_records_what_a_hub_results_entry_says() -> None:
    file = services.ResultsFile(path=".eval_results/mmlu_pro.yaml", text=FULL_ENTRY)
    import_into(inspected_run(REPO), card_data={}, results_files=[file])
    claim = Claim.objects.get()
    assert (claim.dataset_id, claim.dataset_task_id) == ("TIGER-Lab/MMLU-Pro", "mmlu_pro")
    assert claim.dataset_revision.startswith("3373e0b") and claim.source_org == "ridge-ai"
    assert claim.verify_token.startswith("eyJ") and claim.source_ref == ""
    assert claim.result_date == datetime.date(2026, 2, 20) and claim.benchmark == "mmlu_pro"


def test_a_pull_requests_results_are_third_party_claims_with_their_ref() -> None:
    added = FULL_ENTRY.replace("user: ridge-ai", "user: quill-reviewer")
    file = services.ResultsFile(
        path=".eval_results/mmlu_pro.yaml", text=added, source_ref="refs/pr/3"
    )
    import_into(inspected_run(REPO), card_data={}, results_files=[file])
    claim = Claim.objects.get()
    assert (claim.source, claim.reported_by, claim.source_ref) == (
        "third-party",
        "quill-reviewer",
        "refs/pr/3",
    )


def test_the_run_page_shows_why_card_claims_were_left_out(client) -> None:
    run = import_into(inspected_run(REPO), card_data=card_with(MAX_CLAIMS_PER_BATCH + 1))
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Model card import" in page and "1 left out" in page
    quiet = import_into(inspected_run("ridge-ai/Other-7B"), card_data=card_with(1))
    assert "Model card import" not in client.get(f"/runs/{quiet.id}/").content.decode()


def test_the_claim_row_shows_the_hub_benchmark_and_its_catalogue_match(client) -> None:
    unknown = FULL_ENTRY.replace("TIGER-Lab/MMLU-Pro", "cais/hle").replace("mmlu_pro", "hle")
    files = [
        services.ResultsFile(path=".eval_results/a.yaml", text=FULL_ENTRY),
        services.ResultsFile(path=".eval_results/b.yaml", text=unknown, source_ref="refs/pr/3"),
    ]
    import_into(inspected_run(REPO), card_data=card_with(1), results_files=files)
    page = " ".join(
        client.get(f"/models/{REPO}/").content.decode().split()
    )  # as a browser shows it
    assert "task <code>mmlu_pro</code>: matched to the catalogue's mmlu_pro" in page
    assert "task <code>hle</code>: not in the catalogue; community-provided" in page
    assert page.count('class="muted hub-result"') == 2  # the model-index claim has no hub line


def test_the_claims_api_gives_what_the_hub_results_entry_said(client) -> None:
    files = [services.ResultsFile(path=".eval_results/a.yaml", text=FULL_ENTRY)]
    import_into(inspected_run(REPO), card_data=card_with(1), results_files=files)

    rows = client.get(f"/api/v1/models/{REPO}/claims").json()
    by_source = {row["claim"]["source"]: row["claim"] for row in rows}
    hub = by_source["eval-results"]["hub_result"]
    assert hub["dataset_id"] == "TIGER-Lab/MMLU-Pro" and hub["task_id"] == "mmlu_pro"
    assert hub["matched_to_catalogue"] is True
    assert by_source["model-card"]["hub_result"] is None  # a model-index entry names no dataset
