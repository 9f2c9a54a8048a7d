"""The public pages, through Django's test client."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from evaluations import services
from evaluations.models import Claim, EvaluationRun, RunArtifact, Submission
from tests.factories import SHA_B, finished_run, inspected_run, person, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def signed_in_author(client: Client) -> None:
    """Ada, whom the hub knows as a member of demo-org: an author of demo-org/tiny."""
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))


def test_a_visitor_is_asked_to_sign_in_before_submitting(client: Client) -> None:
    response = client.get("/submit/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post("/submit/", {"repo_id": "demo-org/tiny", "suite": "smoke"})
    assert response.status_code == 302 and not Submission.objects.exists()


@pytest.mark.usefixtures("signed_in_author")
def test_it_queues_a_submission_and_shows_its_run(client: Client) -> None:
    response = client.post(
        "/submit/", {"repo_id": "demo-org/tiny", "ref": "", "suite": "smoke", "precision": "auto"}
    )
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.id}/"
    page = client.get(response["Location"]).content.decode()
    assert "demo-org/tiny" in page and "Queued" in page and "position 1 in the queue" in page
    assert run.submission.ref == "main"


@pytest.mark.usefixtures("signed_in_author")
@pytest.mark.parametrize(
    "data, message",
    [
        ({"repo_id": "not a repo", "suite": "smoke", "precision": "auto"}, "Hugging Face repo id"),
        ({"repo_id": "a/b", "suite": "bogus", "precision": "auto"}, "Select a valid choice"),
        ({"repo_id": "a/b", "ref": "x..y", "suite": "smoke", "precision": "auto"}, "branch, tag"),
        ({"suite": "smoke", "precision": "auto"}, "This field is required"),
    ],
)
def test_it_answers_bad_input_with_400_and_a_message(
    client: Client, data: dict, message: str
) -> None:
    response = client.post("/submit/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.usefixtures("signed_in_author")
def test_resubmitting_links_to_the_existing_run(client: Client) -> None:
    run = queued_run("demo-org/tiny")
    response = client.post(
        "/submit/",
        {"repo_id": "demo-org/tiny", "ref": "main", "suite": "smoke", "precision": "auto"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/runs/{run.id}/"
    assert "No new evaluation was queued" in response.content.decode()


def test_the_status_view_reports_progress(client: Client) -> None:
    run = inspected_run()
    services.run_start_evaluating(run_id=run.id, backend="hf")
    services.run_heartbeat(run_id=run.id, done=5, total=20)
    status = client.get(f"/runs/{run.id}/status.json").json()
    assert status["state"] == "running" and status["progress_percent"] == 25
    assert status["commit_sha"] == run.revision.commit_sha and not status["final"]


def test_a_failed_run_says_why_in_words(client: Client) -> None:
    run = inspected_run()
    services.run_fail(
        run_id=run.id,
        code="eval:user:no-safetensors",
        detail="found pytorch_model.bin, no *.safetensors",
        log_tail="",
    )
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Why it was refused" in page and "no safetensors weights" in page
    assert "found pytorch_model.bin" in page


def test_a_run_that_failed_while_evaluating_is_failed_not_refused(client: Client) -> None:
    run = inspected_run()
    services.run_fail(run_id=run.id, code="eval:user:model-load-failed", detail="bad weights")
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "Why it failed" in page and "state-failed" in page and "Refused" not in page


def test_the_model_page_shows_each_revision_with_its_scores(client: Client) -> None:
    run = finished_run("demo-org/tiny", value=0.625)
    page = client.get("/models/demo-org/tiny/").content.decode()
    assert run.revision.commit_sha in page
    assert "62.5" in page and "± 9.8" in page  # 0.625, 1.96 × 0.05: the 95 % interval in points
    assert "Measured ± 95 %" in page and "(standard error 5.0)" not in page


def test_the_model_page_header_sums_up_verdict_run_and_hub_link(client: Client, settings) -> None:
    settings.HF_ENDPOINT = "https://hub.example"
    run = finished_run("demo-org/tiny", value=0.5)
    quiet = client.get("/models/demo-org/tiny/").content.decode()
    assert "no claims" in quiet
    assert f"run #{run.id}" in quiet and "precision auto" in quiet
    assert 'href="https://hub.example/demo-org/tiny"' in quiet
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)],
    )
    header = client.get("/models/demo-org/tiny/").content.decode().split("</dl>")[0]
    assert 'class="badge verdict-contradicted"' in header


def test_the_model_page_links_its_evidence_csv_and_its_api_url(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.625)
    page = client.get("/models/demo-org/tiny/").content.decode()
    assert (
        '<a href="/api/v1/models/demo-org/tiny/evidence.csv" download>Evidence as CSV</a>' in page
    )
    assert "<code>/api/v1/models/demo-org/tiny</code>" in page
    assert client.get("/api/v1/models/demo-org/tiny/evidence.csv").status_code == 200
    assert client.get("/api/v1/models/demo-org/tiny").json()["hub_id"] == "demo-org/tiny"


def test_every_page_footer_links_the_api_documentation(client: Client) -> None:
    for url in ("/", "/compare/", "/scatter/"):
        assert '<a href="/api/v1/docs">API documentation</a>' in client.get(url).content.decode()
    assert client.get("/api/v1/docs").status_code == 200


def test_the_home_page_ranks_by_measured_score(client: Client) -> None:
    finished_run("demo-org/low", sha="1" * 40, value=0.3)
    finished_run("demo-org/high", sha="2" * 40, value=0.9)
    page = client.get("/?suite=smoke").content.decode()
    assert page.index("demo-org/high") < page.index("demo-org/low")


def test_unknown_pages_and_suites_are_clear_4xx(client: Client) -> None:
    assert client.get("/?suite=nope").status_code == 400
    assert client.get("/runs/999999/").status_code == 404
    assert client.get("/models/nobody/nothing/").status_code == 404
    assert client.get("/runs/1/artifacts/results/").status_code == 404


def test_a_request_for_a_host_we_do_not_serve_is_a_400_page(client: Client) -> None:
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert b"Bad request" in response.content


def test_artifacts_download_with_their_checksum(client: Client, settings, tmp_path) -> None:
    settings.ARTIFACTS_DIR = tmp_path
    run = finished_run()
    (tmp_path / "run-x").mkdir()
    (tmp_path / "run-x" / "results.json").write_text('{"results": {}}')
    digest = hashlib.sha256(b'{"results": {}}').hexdigest()
    RunArtifact.objects.create(
        run=run, kind="results", path="run-x/results.json", sha256=digest, size_bytes=15
    )
    response = client.get(f"/runs/{run.id}/artifacts/results/")
    assert response.status_code == 200 and response["X-Content-SHA256"] == digest
    assert b"".join(response.streaming_content) == b'{"results": {}}'


def test_the_model_page_links_each_runs_raw_data(client: Client) -> None:
    run = finished_run("demo-org/tiny")
    RunArtifact.objects.create(
        run=run, kind="results", path="run-x/results.json", sha256="a" * 64, size_bytes=15
    )
    page = client.get("/models/demo-org/tiny/").content.decode()
    assert f'href="/runs/{run.id}/artifacts/results/"' in page and "sha256 aaaaaaaaaaaa" in page


def test_an_artifact_path_cannot_leave_the_storage(client: Client, settings, tmp_path) -> None:
    settings.ARTIFACTS_DIR = tmp_path / "store"
    run = finished_run()
    RunArtifact.objects.create(
        run=run, kind="log", path="../../etc/passwd", sha256="0" * 64, size_bytes=1
    )
    assert client.get(f"/runs/{run.id}/artifacts/log/").status_code == 404


@override_settings(DEBUG=False)
def test_hostile_text_is_escaped(client: Client) -> None:
    run = inspected_run()
    services.run_fail(
        run_id=run.id,
        code="eval:user:remote-code",
        detail="<script>alert(1)</script>",
        log_tail="<img src=x onerror=alert(1)>",
    )
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def _form(**claims: str) -> dict[str, str]:
    data = {"repo_id": "demo-org/tiny", "ref": "main", "suite": "smoke", "precision": "auto"}
    data.update({f"claim-smoke_arc-{key}": value for key, value in claims.items()})
    return data


@pytest.mark.usefixtures("signed_in_author")
def test_claims_entered_with_a_submission_are_recorded_with_it(client: Client) -> None:
    response = client.post(
        "/submit/",
        _form(value="72.5", unit="percent", shots="0", source_url="https://example.org/paper"),
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.value == pytest.approx(0.725) and claim.submission == Submission.objects.get()
    assert claim.source == "submission" and claim.source_url == "https://example.org/paper"
    page = client.get("/models/demo-org/tiny/").content.decode()
    assert "Claimed vs measured" in page and "72.5" in page and "pending" in page


@pytest.mark.usefixtures("signed_in_author")
@pytest.mark.parametrize(
    "claim, message",
    [
        ({"value": "1.5", "unit": "fraction", "shots": "0"}, "A fraction is between 0 and 1"),
        ({"value": "150", "unit": "percent", "shots": "0"}, "less than or equal to 100"),
        ({"value": "50", "unit": "percent", "shots": ""}, "Say how many shots"),
        ({"value": "50", "shots": "0", "source_url": "javascript:alert(1)"}, "Enter a valid URL"),
    ],
)
def test_bad_claims_are_refused_and_nothing_is_recorded(
    client: Client, claim: dict, message: str
) -> None:
    response = client.post("/submit/", _form(**claim))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Submission.objects.exists() and not Claim.objects.exists()


def test_a_flagged_model_carries_a_badge_and_can_be_hidden(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)],
    )
    finished_run("demo-org/honest", sha="3" * 40, value=0.4)
    page = client.get("/?suite=smoke").content.decode()
    assert "flagged claim" in page
    hidden = client.get("/?suite=smoke&hide_flagged=1").content.decode().split("Recent runs")[0]
    assert "demo-org/honest" in hidden and "demo-org/tiny/" not in hidden
    model_page = client.get("/models/demo-org/tiny/").content.decode()
    assert (
        "contradicted" in model_page
        and "Claimed 95.0, measured 50.0, standard error 5.0" in model_page
    )


def test_the_history_json_has_claims_and_measurements_and_is_cached(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)],
    )
    response = client.get("/models/demo-org/tiny/history.json")
    chart = response.json()
    arc = next(p for p in chart["benchmarks"] if p["benchmark"] == "smoke_arc")
    traces = {t["name"]: t for t in chart["figure"]["data"] if t["xaxis"] == arc["xaxis"]}
    assert traces["measured, 0-shot"]["y"] == [50.0] and traces["claimed"]["y"] == [95.0]
    assert any("flag opened" in a["text"] for a in chart["figure"]["layout"]["annotations"])
    again = client.get("/models/demo-org/tiny/history.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=51.0, unit="percent", shots=0)],
    )
    fresh = client.get("/models/demo-org/tiny/history.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert fresh.status_code == 200  # a new claim is never hidden behind a stale cache
    claimed = [t for t in fresh.json()["figure"]["data"] if t["name"] == "claimed"]
    assert len(claimed[0]["y"]) == 2


def test_plotly_is_served_from_our_own_static_files(client: Client) -> None:
    response = client.get("/static/plotly/plotly.min.js")
    assert response.status_code == 200


def test_the_model_page_shows_how_to_reproduce_each_run(client: Client) -> None:
    run = finished_run("demo-org/tiny")
    setting = {
        "backend": "hf",
        "model_args": {"dtype": "float32", "trust_remote_code": False},
        "tasks": [{"task": "smoke_arc", "shots": 0}, {"task": "smoke_gsm8k", "shots": 0}],
        "batch_size": 8,
        "device": "cpu",
        "limit": None,
        "log_samples": True,
        "apply_chat_template": False,
        "random_seed": 1234,
        "numpy_random_seed": 1234,
        "torch_random_seed": 1234,
        "fewshot_random_seed": 1234,
        "include_path": True,
    }
    EvaluationRun.objects.filter(id=run.id).update(
        versions={"lm_eval_version": "0.4.13", "setting": setting}
    )

    page = client.get("/models/demo-org/tiny/").content.decode()

    assert "<summary>Reproduce these numbers</summary>" in page
    assert (
        f"lm_eval --model hf --model_args pretrained=demo-org/tiny,revision="
        f"{run.revision.commit_sha},dtype=float32,trust_remote_code=False "
        "--tasks smoke_arc,smoke_gsm8k --num_fewshot 0 --batch_size 8"
    ) in page
    assert "pip install &#x27;lm-eval[hf]==0.4.13&#x27;" in page
    assert "leaderboard/reproduce.js" in page


@pytest.mark.parametrize(
    "path",
    [
        "/models/demo-org/%00/",
        "/models/%00/tiny/history.json",
        "/runs/1/artifacts/%00/",
        "/?licence=%00",
        "/compare/?models=demo-org/tiny,%00",
        "/moderation/log/?actor=%00",
    ],
)
def test_a_nul_character_in_the_address_is_a_400_not_a_database_error(
    client: Client, path: str
) -> None:
    finished_run("demo-org/tiny")
    response = client.get(path)
    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_api_errors_outside_any_endpoint_answer_json(client: Client) -> None:
    missing = client.get("/api/v1/no-such-collection")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is nothing at this address."}
    refused = client.get("/api/v1/models?q=%00")
    assert refused.status_code == 400
    assert "NUL" in refused.json()["detail"]


def test_a_nul_character_in_a_submitted_form_is_a_400(client: Client) -> None:
    client.force_login(person("uma"))
    response = client.post("/account/tokens/", {"name": "laptop\x00"})
    assert response.status_code == 400
    assert b"NUL character" in response.content


# --- Refusals, duplicates and repos never found on the hub ----------------------------------

TOO_LARGE = "70,000,000,000 parameters; this worker accepts at most 3,000,000,000"


def refused_run(repo_id: str = "demo-org/huge", code: str = "eval:user:too-large") -> EvaluationRun:
    """A run the worker refused at inspection: no commit was ever recorded for the repo."""
    run = queued_run(repo_id)
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    assert services.run_fail(run_id=run.id, code=code, detail=TOO_LARGE)
    return EvaluationRun.objects.get(id=run.id)


def arc_claim_on(repo_id: str, **kwargs: str) -> None:
    claims = [services.ClaimInput(benchmark="smoke_arc", value=90.0, unit="percent", shots=0)]
    services.claims_record(repo_id=repo_id, source="submission", claims=claims, **kwargs)


def test_a_refused_run_is_shown_as_refused_with_its_limit(client: Client) -> None:
    run = refused_run()
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "state-refused" in page and ">Refused<" in page and "Why it was refused" in page
    assert "accepts at most 3,000,000,000" in page
    assert "larger worker is available" not in page and "nothing queues the run again" in page
    status = client.get(f"/runs/{run.id}/status.json").json()
    assert status["state_label"] == "Refused" and status["refused"] is True
    assert client.get(f"/api/v1/runs/{run.id}").json()["state_label"] == "Refused"
    listed = client.get("/api/v1/runs").json()["items"]
    assert [row["state_label"] for row in listed] == ["Refused"]


def test_the_home_pages_recent_runs_say_refused(client: Client) -> None:
    refused_run()
    page = client.get("/").content.decode()
    assert "state-refused" in page and "state-failed" not in page


def test_a_refused_repos_page_links_the_refusal_and_its_reason(client: Client) -> None:
    run = refused_run()
    arc_claim_on("demo-org/huge")
    client.force_login(person("mona", moderator=True))
    page = client.get("/models/demo-org/huge/").content.decode()
    header = page.split('id="refusal"')[1].split("</p>")[0]
    assert f'href="/runs/{run.id}/"' in header and "Refused" in header
    assert "accepts at most 3,000,000,000" in header
    evidence = page.split('id="evidence"')[1]
    assert "not measured yet" not in evidence.lower() and f"run #{run.id}" in evidence
    assert "the repo was refused" in evidence
    assert "No commit of this repo has been inspected yet" not in page


def test_a_later_finished_run_ends_the_refusal_notice(client: Client) -> None:
    refused_run("demo-org/tiny", code="eval:user:gated")
    finished_run("demo-org/tiny")
    page = client.get("/models/demo-org/tiny/").content.decode()
    assert 'id="refusal"' not in page


def test_a_repo_never_found_on_the_hub_has_no_public_page(client: Client) -> None:
    refused_run("demo-org/does-not-exist", code="eval:user:repo-not-found")
    assert client.get("/models/demo-org/does-not-exist/").status_code == 404
    assert client.get("/models/demo-org/does-not-exist/history.json").status_code == 404
    assert client.get("/api/v1/models/demo-org/does-not-exist").status_code == 404
    client.force_login(person("uma"))
    assert client.get("/models/demo-org/does-not-exist/").status_code == 404


def test_its_submitter_and_moderators_see_it_was_never_found(client: Client) -> None:
    run = refused_run("demo-org/does-not-exist", code="eval:user:repo-not-found")
    submitter = person("sam")
    Submission.objects.filter(id=run.submission_id).update(submitted_by=submitter)
    for viewer in (submitter, person("mona", moderator=True)):
        client.force_login(viewer)
        response = client.get("/models/demo-org/does-not-exist/")
        assert response.status_code == 200
        assert "Never found on the hub" in response.content.decode()


def test_a_repo_never_found_stays_off_the_public_lists_but_on_record(client: Client) -> None:
    finished_run("demo-org/tiny")
    refused_run("demo-org/does-not-exist", code="eval:user:repo-not-found")
    arc_claim_on("demo-org/ghost", reported_by="jo-journalist")
    listed = [row["hub_id"] for row in client.get("/api/v1/models").json()["items"]]
    assert listed == ["demo-org/tiny"]
    assert client.get("/api/v1/models?q=does").json()["count"] == 0
    compare = client.get("/compare/").content.decode().split('id="known-models"')[1]
    compare = compare.split("</datalist>")[0]
    assert "demo-org/tiny" in compare and "ghost" not in compare and "does-not-exist" not in compare
    assert "demo-org/ghost" not in client.get("/?suite=smoke").content.decode()
    assert client.get("/models/demo-org/ghost/").status_code == 404
    assert Claim.objects.filter(repo__hub_id="demo-org/ghost").exists()
    assert Submission.objects.filter(repo__hub_id="demo-org/does-not-exist").exists()


def test_a_repo_refused_for_what_the_hub_showed_keeps_its_public_page(client: Client) -> None:
    refused_run("demo-org/huge", code="eval:user:too-large")  # refused before any commit
    refused_run("demo-org/does-not-exist", code="eval:user:repo-not-found")
    assert client.get("/models/demo-org/huge/").status_code == 200
    listed = [row["hub_id"] for row in client.get("/api/v1/models").json()["items"]]
    assert listed == ["demo-org/huge"]


def test_a_duplicate_run_is_a_link_to_the_run_it_duplicates(client: Client) -> None:
    done = finished_run("demo-org/tiny")
    again = queued_run("demo-org/tiny")
    assert services.run_claim(run_id=again.id, worker_name="worker-1", task_id="task-2")
    assert services.run_record_inspection(
        run_id=again.id,
        commit_sha=done.revision.commit_sha,
        files=[],
        parameter_count=1000,
        dtype="F32",
        licence="mit",
        model_type="llama",
    )
    model = client.get("/models/demo-org/tiny/").content.decode()
    assert f"Run #{again.id}</a>" not in model and f"Run #{done.id}</a>" in model
    line = model.split(f'id="run-{again.id}"')[1].split("</p>")[0]
    assert f'href="/runs/{done.id}/"' in line
    page = client.get(f"/runs/{again.id}/").content.decode()
    state = page.split('id="run-state"')[1].split("</span>")[0]
    assert f'href="/runs/{done.id}/"' in state and f"Duplicate of run #{done.id}" in state
    assert ">Finished<" not in state
    api = client.get(f"/api/v1/runs/{again.id}").json()
    assert api["state_label"] == f"Duplicate of run #{done.id}" and api["duplicate_of"] == done.id
    status = client.get(f"/runs/{again.id}/status.json").json()
    assert status["shown_state"] == "duplicate" and 'class="state state-duplicate"' in state


def test_the_live_status_names_the_badge_class_the_page_renders(client: Client) -> None:
    """run.js sets the badge from ``shown_state`` and ``state_label``: the same class and
    words as the server's badge, Refused and Duplicate included."""
    runs = [queued_run("demo-org/waiting"), inspected_run("demo-org/fetched"), refused_run()]
    for run in runs:
        status = client.get(f"/runs/{run.id}/status.json").json()
        page = client.get(f"/runs/{run.id}/").content.decode()
        badge = page.split('id="run-state"')[1][:200]
        shown = f'class="state state-{status["shown_state"]}">{status["state_label"]}</span>'
        assert shown in badge
    assert [client.get(f"/runs/{run.id}/status.json").json()["shown_state"] for run in runs] == [
        "queued",
        "fetching",
        "refused",
    ]


def test_the_home_pages_recent_runs_leave_out_repos_never_found_on_the_hub(
    client: Client,
) -> None:
    typo = refused_run("demo-org/does-not-exist", code="eval:user:repo-not-found")
    huge = refused_run("demo-org/huge")
    tiny = finished_run("demo-org/tiny")
    waiting = queued_run("demo-org/new-model")
    page = client.get("/").content.decode()
    recent = page.split('id="recent-runs"')[1]
    assert "demo-org/does-not-exist" not in recent and f"#{typo.id}<" not in recent
    assert f"#{huge.id}<" in recent and f"#{tiny.id}<" in recent  # the hub showed both
    assert f"#{waiting.id}<" not in recent  # listed once a worker pins its commit


def _model_page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/models/demo-org/tiny/")
    assert page.status_code == 200
    return len(queries)


def test_the_model_page_costs_the_same_queries_however_many_commits_runs_and_claims(
    client: Client,
) -> None:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=90.0, unit="percent", shots=0)],
    )
    few = _model_page_queries(client)
    caches["pages"].clear()
    finished_run("demo-org/tiny", sha=SHA_B, value=0.6)  # a second commit, its run and scores
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[
            services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0),
            services.ClaimInput(benchmark="smoke_gsm8k", value=50.0, unit="percent", shots=0),
        ],
    )
    assert _model_page_queries(client) == few
    # The generation, the repo (with whether it has re-uploads, lineage checks, endpoints,
    # moderators' decisions, flag events or run artifacts: only its flag events are read,
    # the others it has none of), its runs with their scores, its commits, its claims and
    # its flag events. The claims are matched with the runs and scores the page lists, not
    # read again; the refusal and the runs in progress are among those runs; the claims and
    # flag events serve the evidence and the histories both.
    assert few <= 7
