"""The provenance panel on a model's page, its JSON in the API, and a re-upload flag in the
moderators' pages.

demo-org/tiny was measured at commit SHA_A, where its author claimed 50 % on Smoke ARC; the
watch then saw main name SHA_B, whose weights differ (the hub's listing, recorded here through
the service the watch calls).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations.models import EvaluationRun, ProvenanceEvent
from evaluations.services import provenance
from tests.factories import SHA_A, SHA_B, arc_claim, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

NEW_WEIGHTS = "f" * 63 + "e"


def reupload(*, weights: str = NEW_WEIGHTS) -> ProvenanceEvent:
    old = finished_run("demo-org/tiny", sha=SHA_A, value=0.5)
    arc_claim("tiny", 50.0)
    event = provenance.watch_record_commit(
        repo_id=old.submission.repo_id,
        ref="main",
        commit_sha=SHA_B,
        committed_at=None,
        files=[
            {"path": "model.safetensors", "size": 12, "sha256": weights, "blob_id": None},
            {"path": "notes.md", "size": 3, "sha256": None, "blob_id": "c" * 40},
        ],
    )
    assert event is not None
    return event


def test_the_model_page_shows_the_re_upload_with_its_changes_and_both_runs(client: Client) -> None:
    event = reupload()
    assert event.reevaluation is not None

    html = client.get("/models/demo-org/tiny/").content.decode()

    assert "<h2>Provenance</h2>" in html
    assert "Claims were made on commit" in html and "weights replaced" in html
    assert f'<code title="{SHA_A}">' in html and f'<code title="{SHA_B}">' in html
    # Hashes truncated, the full value in the title.
    assert f'<code title="{NEW_WEIGHTS}">{NEW_WEIGHTS[:12]}</code>' in html
    assert "added</td><td><code>notes.md</code>" in html
    old_run = EvaluationRun.objects.get(revision__commit_sha=SHA_A)
    assert f"/runs/{old_run.id}" in html and f"/runs/{event.reevaluation.id}" in html
    assert "not wrongdoing by itself" in html
    assert "/api/v1/models/demo-org/tiny/provenance" in html


def test_the_api_returns_the_events_as_raw_data(client: Client) -> None:
    event = reupload()

    (row,) = client.get("/api/v1/models/demo-org/tiny/provenance").json()

    assert row["old_commit_sha"] == SHA_A and row["new_commit_sha"] == SHA_B
    assert row["weights_changed"] and row["reevaluated"]
    assert row["changes"]["changed"][0]["after"]["sha256"] == NEW_WEIGHTS
    assert row["claims_on_old_commit"] == 1
    assert row["new_run_id"] == event.reevaluation_id
    assert row["flag_id"] == event.flag.id


def test_a_model_never_watched_says_so(client: Client) -> None:
    finished_run("demo-org/tiny")

    html = client.get("/models/demo-org/tiny/").content.decode()

    assert "The re-upload watch has not asked the hub yet." in html
    assert client.get("/api/v1/models/demo-org/tiny/provenance").json() == []


def test_moderators_see_the_re_upload_flag_with_its_evidence(
    client: Client, moderator: User
) -> None:
    event = reupload()
    client.force_login(moderator)

    queue = client.get("/moderation/").content.decode()
    page = client.get(f"/flags/{event.flag.id}/").content.decode()

    for html in (queue, page):
        assert "Weights replaced after evaluation" in html or "weights replaced" in html
        assert f'<code title="{SHA_B}">' in html
        assert f"#reupload-{event.id}" in html
    assert "Queue a re-run of the claim" not in page


def test_an_event_is_never_changed(client: Client) -> None:
    from django.db import connection

    event = reupload()
    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's")
    from django.db import ProgrammingError, transaction

    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        ProvenanceEvent.objects.filter(id=event.id).update(weights_changed=False)


def test_a_re_upload_flag_leaves_the_lists_of_flagged_models_as_they_were(client: Client) -> None:
    reupload()  # its one claim (50 %) is supported: no score gap
    finished_run("demo-org/other", sha=SHA_A)

    unflagged = client.get("/api/v1/models?flagged=false").json()["items"]

    assert {row["hub_id"] for row in unflagged} == {"demo-org/tiny", "demo-org/other"}


def test_the_new_commits_run_page_says_the_watch_queued_it(client: Client) -> None:
    event = reupload()
    assert event.reevaluation is not None

    html = client.get(f"/runs/{event.reevaluation.id}/").content.decode()

    assert 'id="reupload-note"' in html and "queued this run" in html
    assert f"#reupload-{event.id}" in html


def test_a_repo_the_hub_no_longer_shows_is_inconclusive_not_consistent(client: Client) -> None:
    run = finished_run("demo-org/tiny")
    provenance.watch_record_failure(
        repo_id=run.submission.repo_id,
        ref="main",
        outcome="repo-gone",
        detail="demo-org/tiny was not found",
    )

    html = client.get("/models/demo-org/tiny/").content.decode()

    assert ">inconclusive</span>" in html
    assert "Last check: the repo is gone or private. demo-org/tiny was not found" in html


def test_the_rankings_can_hide_models_with_a_provenance_flag(client: Client) -> None:
    reupload()
    finished_run("demo-org/other", sha=SHA_A)

    shown = client.get("/").content.decode()
    hidden = client.get("/?hide_provenance=1").content.decode()
    api = client.get("/api/v1/rankings?hide_provenance=1").json()
    every = {row["hub_id"]: row for row in client.get("/api/v1/rankings").json()["rows"]}

    assert "/models/demo-org/tiny/" in shown and "provenance flag</a>" in shown
    assert "/models/demo-org/tiny/" not in hidden.split('id="recent-runs"')[0]
    assert "/models/demo-org/other/" in hidden
    assert 'name="hide_provenance" value="1" checked' in hidden
    assert [row["hub_id"] for row in api["rows"]] == ["demo-org/other"]
    assert api["hide_provenance"] is True
    assert every["demo-org/tiny"]["provenance_flagged"] is True
    assert every["demo-org/other"]["provenance_flagged"] is False


def test_a_dismissed_provenance_flag_no_longer_hides_the_model(
    client: Client, moderator: User
) -> None:
    from evaluations.services import moderation

    event = reupload()
    moderation.flag_moderate(
        flag_id=event.flag.id, user=moderator, action="dismiss", reason="A fix of the tokenizer."
    )

    rows = client.get("/api/v1/rankings?hide_provenance=1").json()["rows"]

    assert [row["hub_id"] for row in rows] == ["demo-org/tiny"]


def test_the_panel_opens_with_the_claims_verdicts(client: Client) -> None:
    finished_run("demo-org/tiny", sha=SHA_A, value=0.5)
    arc_claim("tiny", 50.0)  # 40 items cannot tell a 50 % claim from the 50 % measured
    finished_run("demo-org/inflated", sha=SHA_A, value=0.3)
    arc_claim("inflated", 95.0)
    finished_run("demo-org/quiet", sha=SHA_A)

    def panel(name: str) -> str:
        html = client.get(f"/models/demo-org/{name}/").content.decode()
        return html.split('id="provenance"')[1].split('id="signal-re-upload"')[0]

    honest, inflated = panel("tiny"), panel("inflated")
    assert 'id="signal-score-gap"' in honest
    assert "cannot be told from noise" in honest
    counted = '<span class="badge verdict-inconclusive">inconclusive</span></td><td class="num">1<'
    assert counted in honest
    assert '<span class="badge signal-flagged">flagged</span>' in inflated
    assert "A claimed score is contradicted by our measurement." in inflated
    assert "The author has claimed no scores to check." in panel("quiet")
