"""The open-data API: models, revisions, runs, flags, rankings and CSVs, read with ETags."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.models import EvaluationRun
from evaluations.services import ClaimInput, moderation
from tests.factories import SHA_A, SHA_B, finished_run, inspected_run, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def get(client: Client, url: str, **headers: str) -> Any:
    return client.get(url, headers=headers)


def claim(hub_id: str, percent: float, **extra: Any) -> None:
    """The author of ``hub_id`` claims ``percent`` on Smoke ARC, 0-shot."""
    services.claims_record(
        repo_id=hub_id,
        source="api",
        claims=[ClaimInput(benchmark="smoke_arc", value=percent, unit="percent", shots=0, **extra)],
    )


def run_with_artifact(hub_id: str = "demo-org/tiny") -> EvaluationRun:
    run = inspected_run(hub_id, SHA_A)
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_record_results(
        run_id=run.id,
        scores=[
            {
                "benchmark_key": "smoke_arc",
                "task": "smoke_arc",
                "metric": "acc",
                "filter": "none",
                "shots": 0,
                "value": 0.6,
                "stderr": 0.04,
                "n_samples": 40,
            }
        ],
        versions={"lm_eval_version": "0.4.13"},
        artifacts=[
            {
                "kind": "results",
                "path": "runs/1/results.json",
                "sha256": "f" * 64,
                "size_bytes": 123,
            }
        ],
    )
    return EvaluationRun.objects.get(id=run.id)


def read_csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# --- Models ------------------------------------------------------------------------------


def test_it_lists_models_with_their_latest_commit(client: Client) -> None:
    finished_run("demo-org/tiny")
    inspected_run("demo-org/waiting")  # pinned to a commit, not evaluated yet
    queued_run("demo-org/typo")  # never found on the hub (yet): on no public list
    body = get(client, "/api/v1/models").json()
    assert body["count"] == 2
    tiny, waiting = body["items"]
    assert tiny == {
        "hub_id": "demo-org/tiny",
        "latest_commit": SHA_A,
        "parameter_count": 1000,
        "licence": "mit",
        "open_flag_count": 0,
    }
    assert waiting["hub_id"] == "demo-org/waiting" and waiting["latest_commit"] is None


def test_it_pages_the_models(client: Client) -> None:
    for index in range(3):
        inspected_run(f"org/model-{index}")
    first = get(client, "/api/v1/models?limit=2").json()
    rest = get(client, "/api/v1/models?limit=2&offset=2").json()
    assert first["count"] == rest["count"] == 3
    assert [m["hub_id"] for m in first["items"] + rest["items"]] == [
        "org/model-0",
        "org/model-1",
        "org/model-2",
    ]
    assert get(client, "/api/v1/models?limit=101").status_code == 422


def test_it_filters_models_by_name_and_flag(client: Client) -> None:
    finished_run("demo-org/honest", value=0.5)
    finished_run("demo-org/boaster", value=0.5)
    claim("demo-org/boaster", 95.0)
    flagged = get(client, "/api/v1/models?flagged=true").json()["items"]
    assert [(m["hub_id"], m["open_flag_count"]) for m in flagged] == [("demo-org/boaster", 1)]
    clean = get(client, "/api/v1/models?flagged=false").json()["items"]
    assert [m["hub_id"] for m in clean] == ["demo-org/honest"]
    found = get(client, "/api/v1/models?q=HON").json()["items"]
    assert [m["hub_id"] for m in found] == ["demo-org/honest"]


def test_a_model_shows_its_revisions_runs_and_scores(client: Client) -> None:
    finished_run("demo-org/tiny", SHA_A, value=0.5)
    finished_run("demo-org/tiny", SHA_B, value=0.6)
    body = get(client, "/api/v1/models/demo-org/tiny").json()
    assert body["hub_id"] == "demo-org/tiny" and body["latest_commit"] == SHA_B
    newer, older = body["revisions"]
    assert (newer["commit_sha"], older["commit_sha"]) == (SHA_B, SHA_A)
    [run] = newer["runs"]
    assert run["state"] == "finished" and run["commit_sha"] == SHA_B
    assert {s["benchmark"]: s["value"] for s in run["scores"]} == {
        "smoke_arc": 0.6,
        "smoke_gsm8k": 0.0,
    }
    revisions = get(client, "/api/v1/models/demo-org/tiny/revisions").json()
    assert [r["commit_sha"] for r in revisions] == [SHA_B, SHA_A]
    assert revisions[0]["files"][0]["path"] == "model.safetensors"


# --- Runs --------------------------------------------------------------------------------


def test_it_lists_and_filters_runs(client: Client) -> None:
    done = finished_run("demo-org/tiny")
    waiting = queued_run("demo-org/other")
    classic = queued_run("demo-org/other", suite="classic")
    ids = [r["id"] for r in get(client, "/api/v1/runs").json()["items"]]
    assert ids == [classic.id, waiting.id, done.id]
    assert [r["id"] for r in get(client, "/api/v1/runs?state=finished").json()["items"]] == [
        done.id
    ]
    by_repo = get(client, "/api/v1/runs?repo=demo-org/other&suite=smoke").json()
    assert [r["id"] for r in by_repo["items"]] == [waiting.id] and by_repo["count"] == 1
    assert get(client, "/api/v1/runs?limit=1&offset=1").json()["items"][0]["id"] == waiting.id


def test_a_run_shows_scores_versions_and_artifacts(client: Client) -> None:
    run = run_with_artifact()
    body = get(client, f"/api/v1/runs/{run.id}").json()
    assert body["state"] == "finished" and body["progress_percent"] == 100
    assert body["versions"] == {"lm_eval_version": "0.4.13"}
    assert body["scores"][0] == {
        "benchmark": "smoke_arc",
        "task": "smoke_arc",
        "metric": "acc",
        "filter": "none",
        "shots": 0,
        "value": 0.6,
        "stderr": 0.04,
        "n_samples": 40,
    }
    [artifact] = body["artifacts"]
    assert artifact["sha256"] == "f" * 64
    assert artifact["url"] == f"http://testserver/runs/{run.id}/artifacts/results/"


def test_a_failed_run_says_why(client: Client) -> None:
    run = queued_run()
    services.run_fail(run_id=run.id, code="eval:user:time-limit")
    body = get(client, f"/api/v1/runs/{run.id}").json()
    assert body["state"] == "failed" and body["error_code"] == "eval:user:time-limit"
    assert body["error_message"]


# --- Flags -------------------------------------------------------------------------------


def test_a_flag_carries_its_whole_history(client: Client) -> None:
    first = finished_run("demo-org/tiny", SHA_A, value=0.5)
    claim("demo-org/tiny", 90.0)
    second = finished_run("demo-org/tiny", SHA_B, value=0.9)
    [flag] = get(client, "/api/v1/models/demo-org/tiny/flags").json()
    assert flag["claim"]["label"] == "Smoke ARC" and flag["state"] == "resolved"
    assert not flag["is_open"]
    opened, resolved = flag["events"]
    assert (opened["state"], opened["severity"], opened["run_id"]) == ("opened", "severe", first.id)
    assert opened["evidence"]["measured"] == 0.5 and opened["actor"] == ""
    assert resolved["state"] == "resolved" and resolved["run_id"] == second.id
    assert "newer revision" in resolved["reason"]


def test_a_confirmed_flag_stands_in_the_flags_and_the_models_lists(
    client: Client, moderator: Any
) -> None:
    finished_run("demo-org/tiny", SHA_A, value=0.5)
    claim("demo-org/tiny", 90.0)
    flag_id = get(client, "/api/v1/models/demo-org/tiny/flags").json()[0]["id"]
    moderation.flag_moderate(
        flag_id=flag_id,
        user=moderator,
        action="confirm",
        reason="Reproduced twice; the claim does not hold.",
    )
    [flag] = get(client, "/api/v1/models/demo-org/tiny/flags").json()
    assert (flag["state"], flag["is_open"]) == ("confirmed", False)  # the latest event
    assert flag["flagged"] and flag["decision"] == "confirmed"
    assert not flag["decision_predates_evidence"]
    [model] = get(client, "/api/v1/models?flagged=true").json()["items"]
    assert model["open_flag_count"] == 1


# --- Rankings ----------------------------------------------------------------------------


def test_the_rankings_rank_measured_scores(client: Client) -> None:
    finished_run("demo-org/low", value=0.4)
    finished_run("demo-org/high", value=0.9)
    claim("demo-org/low", 99.0)
    body = get(client, "/api/v1/rankings?suite=smoke").json()
    assert body["suite"] == "smoke"
    assert [b["key"] for b in body["benchmarks"]] == ["smoke_arc", "smoke_gsm8k"]
    high, low = body["rows"]
    assert (high["rank"], high["hub_id"], high["flagged"]) == (1, "demo-org/high", False)
    assert high["average"] == pytest.approx((0.9 - 0.25) / 0.75 * 100 / 2)
    assert high["scores"][0] == {"benchmark": "smoke_arc", "value": 0.9, "stderr": 0.05}
    assert low["flagged"] is True and low["commit_sha"] == SHA_A
    hidden = get(client, "/api/v1/rankings?suite=smoke&hide_flagged=true").json()
    assert [row["hub_id"] for row in hidden["rows"]] == ["demo-org/high"]


def test_the_rankings_download_as_csv(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    response = get(client, "/api/v1/rankings.csv?suite=smoke")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="rankings-smoke.csv"'
    [row] = read_csv(response)
    assert row["hub_id"] == "demo-org/tiny" and row["rank"] == "1"
    fractions = [name for name in row if name.endswith("_fraction")]
    assert "normalised_average_fraction" in fractions and "smoke_arc" not in row
    assert not [name for name in row if "average" in name and name not in fractions]
    assert (
        row["smoke_arc_fraction"],
        row["smoke_arc_stderr_fraction"],
        row["smoke_gsm8k_stderr_fraction"],
    ) == (
        "0.5",
        "0.05",
        "",
    )


def test_the_evidence_downloads_as_csv_without_formulas(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    claim("demo-org/tiny", 95.0, label='=HYPERLINK("http://evil.example","x")')
    services.claims_record(
        repo_id="demo-org/tiny",
        source="api",
        claims=[ClaimInput(benchmark="", value=None, label="@SUM(1+1)", typed_value="-2+3")],
    )
    response = get(client, "/api/v1/models/demo-org/tiny/evidence.csv")
    assert response["Content-Disposition"] == ('attachment; filename="evidence-demo-org--tiny.csv"')
    measured, unknown = read_csv(response)
    assert measured["label"] == '\'=HYPERLINK("http://evil.example","x")'
    assert (measured["verdict"], measured["severity"]) == ("contradicted", "severe")
    assert (measured["claimed_fraction"], measured["measured_fraction"], measured["setting"]) == (
        "0.95",
        "0.5",
        "0-shot",
    )
    assert float(measured["gap_fraction"]) == pytest.approx(0.45)
    assert float(measured["measured_stderr_fraction"]) == pytest.approx(0.05)
    assert unknown["label"] == "'@SUM(1+1)" and unknown["typed_value"] == "'-2+3"
    assert unknown["verdict"] == "not comparable"


# --- Errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, status",
    [
        ("/api/v1/models/nobody/nothing", 404),
        ("/api/v1/models/nobody/nothing/revisions", 404),
        ("/api/v1/models/nobody/nothing/flags", 404),
        ("/api/v1/models/nobody/nothing/claims", 404),
        ("/api/v1/models/nobody/nothing/evidence.csv", 404),
        ("/api/v1/models/no%00body/nothing", 400),  # NUL is refused before any view
        ("/api/v1/runs/424242", 404),
        ("/api/v1/rankings?suite=nope", 400),
        ("/api/v1/rankings.csv?suite=nope", 400),
        ("/api/v1/runs?state=sleeping", 400),
        ("/api/v1/runs?suite=nope", 400),
        ("/api/v1/models?flagged=maybe", 400),
        ("/api/v1/models?q=a%00b", 400),
        ("/api/v1/runs?repo=a%00b", 400),
    ],
)
def test_it_answers_a_clear_4xx(client: Client, url: str, status: int) -> None:
    response = get(client, url)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/runs/abc",
        "/api/v1/runs/0",
        "/api/v1/runs/99999999999999999999999",
        "/api/v1/models?offset=99999999999999999999",
    ],
)
def test_a_malformed_number_is_a_422_never_a_500(client: Client, url: str) -> None:
    assert get(client, url).status_code == 422


# --- Conditional GET ---------------------------------------------------------------------


def test_a_repeat_request_gets_304_until_a_claim_arrives(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    for url in [
        "/api/v1/models",
        "/api/v1/models/demo-org/tiny/claims",
        "/api/v1/models/demo-org/tiny/flags",
    ]:
        first = get(client, url)
        assert first["ETag"] and first["Last-Modified"] and first["Cache-Control"] == "no-cache"
        again = get(client, url, if_none_match=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
    before = {
        url: get(client, url) for url in ["/api/v1/models", "/api/v1/models/demo-org/tiny/claims"]
    }
    claim("demo-org/tiny", 95.0)
    for url, old in before.items():
        fresh = get(client, url, if_none_match=old["ETag"])
        assert fresh.status_code == 200 and fresh["ETag"] != old["ETag"]
        assert fresh.content != old.content


def test_a_finished_run_changes_the_rankings_etag(client: Client) -> None:
    finished_run("demo-org/first", value=0.5)
    old = get(client, "/api/v1/rankings?suite=smoke")
    old_csv = get(client, "/api/v1/rankings.csv?suite=smoke")
    assert get(client, "/api/v1/rankings?suite=smoke", if_none_match=old["ETag"]).status_code == 304
    finished_run("demo-org/second", value=0.9)
    fresh = get(client, "/api/v1/rankings?suite=smoke", if_none_match=old["ETag"])
    assert fresh.status_code == 200 and len(fresh.json()["rows"]) == 2
    fresh_csv = get(client, "/api/v1/rankings.csv?suite=smoke", if_none_match=old_csv["ETag"])
    assert fresh_csv.status_code == 200 and len(read_csv(fresh_csv)) == 2


def test_a_run_in_progress_is_never_served_stale(client: Client) -> None:
    run = inspected_run()
    services.run_start_evaluating(run_id=run.id, backend="hf")
    old = get(client, f"/api/v1/runs/{run.id}")
    assert get(client, f"/api/v1/runs/{run.id}", if_none_match=old["ETag"]).status_code == 304
    services.run_heartbeat(run_id=run.id, done=5, total=10)
    fresh = get(client, f"/api/v1/runs/{run.id}", if_none_match=old["ETag"])
    assert fresh.status_code == 200 and fresh.json()["progress_done"] == 5


def test_each_query_string_has_its_own_etag(client: Client) -> None:
    inspected_run("org/a")
    inspected_run("org/b")
    whole = get(client, "/api/v1/models")
    page = get(client, "/api/v1/models?limit=1", if_none_match=whole["ETag"])
    assert page.status_code == 200 and len(page.json()["items"]) == 1


# --- Cost and documentation --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models",
        "/api/v1/models?offset=2&limit=2",
        "/api/v1/rankings?suite=smoke",
        "/api/v1/runs",
        "/api/v1/runs?offset=2&limit=2",
    ],
)
def test_the_query_count_does_not_grow_with_the_rows(
    client: Client, django_assert_max_num_queries: Any, url: str
) -> None:
    def count_queries() -> int:
        with django_assert_max_num_queries(50) as captured:
            assert get(client, url).status_code == 200
        return len(captured.captured_queries)

    for index in range(3):
        finished_run(f"org/model-{index}", value=0.3 + index / 100)
    few = count_queries()
    for index in range(3, 12):
        finished_run(f"org/model-{index}", value=0.3 + index / 100)
    assert count_queries() == few
    with django_assert_max_num_queries(few):
        get(client, url)


@pytest.mark.parametrize(
    "url, loaded_by, expected",
    [
        # by hub id; four correlated subqueries per row
        ("/api/v1/models?offset=2&limit=2", '"latest_commit"', ["org/model-2", "org/model-3"]),
        # newest first; its submission, repo and revision joined
        ("/api/v1/runs?offset=2&limit=2", "JOIN", ["org/model-3", "org/model-2"]),
    ],
)
def test_a_page_reads_its_ids_first_and_loads_only_those_rows(
    client: Client, url: str, loaded_by: str, expected: list[str]
) -> None:
    for index in range(6):
        finished_run(f"org/model-{index}", value=0.3 + index / 100)
    with CaptureQueriesContext(connection) as captured:
        body = get(client, url).json()
    assert [item["hub_id"] for item in body["items"]] == expected
    sql = [query["sql"] for query in captured.captured_queries]
    [paged] = [query for query in sql if "OFFSET" in query]
    # ids alone, sliced in SQL (the model list keeps repos with a commit: one EXISTS)
    assert paged.count("SELECT") == 1 + paged.count("EXISTS") and loaded_by not in paged
    [loaded] = [query for query in sql if loaded_by in query and '"id" IN (' in query]
    assert "OFFSET" not in loaded


def test_the_openapi_document_lists_the_read_api(client: Client) -> None:
    paths = get(client, "/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/models",
        "/api/v1/models/{owner}/{name}",
        "/api/v1/models/{owner}/{name}/revisions",
        "/api/v1/models/{owner}/{name}/flags",
        "/api/v1/models/{owner}/{name}/evidence.csv",
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/rankings",
        "/api/v1/rankings.csv",
    ]:
        assert "get" in paths[path], path
    assert "text/csv" in paths["/api/v1/rankings.csv"]["get"]["responses"]["200"]["content"]


SCORE_FIELDS = {
    "value",
    "stderr",
    "measured",
    "measured_stderr",
    "gap",
    "tolerance",
    "average",
    "average_stderr",
    "raw_average",
}


def test_every_score_field_of_the_api_names_its_unit(client: Client) -> None:
    """The API sends fractions, but for the normalised average in points: each field says
    which, so no client has to guess (the form takes percent, the CSV names *_fraction)."""
    document = client.get("/api/v1/openapi.json").json()
    unnamed = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if field in SCORE_FIELDS
        and "fraction" not in spec.get("description", "")
        and "points" not in spec.get("description", "")
    ]
    assert not unnamed, unnamed
    assert "fraction in [0, 1]" in document["info"]["description"]
