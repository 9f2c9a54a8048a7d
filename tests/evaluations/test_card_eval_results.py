"""The hub's ``.eval_results`` entries, read in full: every field the hub writes, the catalogue
match by the benchmark dataset's own task, and entries from open pull requests."""

from __future__ import annotations

import datetime

from evaluations.cards import claims_from_eval_results, claims_to_json

REPO = "ridge-ai/Ridge-32B"
FULL_ENTRY = """
- dataset:
    id: TIGER-Lab/MMLU-Pro
    task_id: mmlu_pro
    revision: 3373e0b32277875b8db2aa555a333b78a08477ea
  value: 58.3
  date: 2026-02-20
  verifyToken: eyJhbGciOiJFZERTQSJ9.signed-by-the-hub
  notes: 5-shot
  source:
    url: https://huggingface.co/ridge-ai/Ridge-32B
    name: Model Card
    user: ridge-ai
    org: ridge-ai
"""


def test_it_keeps_every_field_a_results_entry_carries() -> None:
    (claim,) = claims_from_eval_results(FULL_ENTRY, repo_id=REPO)
    hub = claim.hub
    assert hub is not None
    assert (hub.dataset_id, hub.task_id) == ("TIGER-Lab/MMLU-Pro", "mmlu_pro")
    assert hub.dataset_revision == "3373e0b32277875b8db2aa555a333b78a08477ea"
    assert hub.verify_token.startswith("eyJ") and hub.source_org == "ridge-ai"
    assert hub.date == datetime.date(2026, 2, 20) and hub.source_ref == ""
    assert claim.source_kind == "eval-results" and claim.value == 0.583 and claim.shots == 5


def test_it_reads_a_quoted_date_and_ignores_one_that_is_not_a_date() -> None:
    text = FULL_ENTRY.replace("date: 2026-02-20", "date: '2026-02-21T10:00:00Z'")
    assert claims_from_eval_results(text, repo_id=REPO)[0].hub.date == datetime.date(2026, 2, 21)
    text = FULL_ENTRY.replace("date: 2026-02-20", "date: last week")
    assert claims_from_eval_results(text, repo_id=REPO)[0].hub.date is None


def test_it_matches_the_catalogue_by_the_benchmark_datasets_task() -> None:
    (claim,) = claims_from_eval_results(FULL_ENTRY, repo_id=REPO)
    assert claim.benchmark_key == "mmlu_pro" and claim.hub.matched_by == "hub-task"


def test_a_task_the_table_does_not_list_falls_back_to_the_name() -> None:
    text = FULL_ENTRY.replace("id: TIGER-Lab/MMLU-Pro", "id: Idavidrein/gpqa").replace(
        "task_id: mmlu_pro", "task_id: diamond"
    )
    (claim,) = claims_from_eval_results(text, repo_id=REPO)
    assert claim.benchmark_key == "gpqa" and claim.hub.matched_by == "name"
    assert not claim.comparable and "diamond" in claim.reason


def test_an_unknown_benchmark_dataset_is_not_matched() -> None:
    text = FULL_ENTRY.replace("TIGER-Lab/MMLU-Pro", "cais/hle").replace("mmlu_pro", "hle")
    (claim,) = claims_from_eval_results(text, repo_id=REPO)
    assert claim.benchmark_key is None and claim.hub.matched_by == ""


def test_an_entry_from_an_open_pull_request_is_community_provided() -> None:
    (claim,) = claims_from_eval_results(FULL_ENTRY, repo_id=REPO, source_ref="refs/pr/3")
    assert claim.source_kind == "eval-results-community"
    assert claim.reported_by == "ridge-ai" and claim.hub.source_ref == "refs/pr/3"


def test_a_pull_request_contributes_only_the_entries_it_adds() -> None:
    added = FULL_ENTRY.replace("58.3", "61.0").replace("user: ridge-ai", "user: quill-reviewer")
    claims = claims_from_eval_results(
        FULL_ENTRY + added, repo_id=REPO, source_ref="refs/pr/3", base_text=FULL_ENTRY
    )
    assert [(c.value, c.reported_by) for c in claims] == [(0.61, "quill-reviewer")]


def test_its_json_says_whether_a_verify_token_is_given_without_copying_it() -> None:
    (record,) = claims_to_json(claims_from_eval_results(FULL_ENTRY, repo_id=REPO))
    assert record["hub_result"]["verify_token"] is True
    assert record["hub_result"]["date"] == "2026-02-20"
    assert record["hub_result"]["source_org"] == "ridge-ai"
