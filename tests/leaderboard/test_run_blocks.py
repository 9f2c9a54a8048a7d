"""A run's block on its model page, and its provenance on its own page: built by the same
tags, every text the run recorded escaped."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from evaluations import dispatch, services
from evaluations.models import EvaluationRun, RunArtifact
from tests.factories import SHA_B, finished_run, inspected_run

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


def test_a_run_names_what_it_ran_with_its_tasks_and_raw_data(client: Client) -> None:
    run = finished_run("demo-org/tiny")
    versions = {
        "lm_eval_version": "0.4.13",
        "torch_version": HOSTILE,
        "python_version": "3.11.7",
        "task_versions": {"smoke_arc": 1, f"task{HOSTILE}": "2.0"},
    }
    EvaluationRun.objects.filter(id=run.id).update(versions=versions)  # as a worker reported
    RunArtifact.objects.create(
        run=run, kind="results", path="run-x/results.json", sha256="a" * 64, size_bytes=15
    )
    ran_with = (
        "<p><strong>Ran with</strong> hf backend · lm-eval 0.4.13 · torch "
        f"{html.escape(HOSTILE)} · Python 3.11.7</p>"
    )
    tasks = f"<p><strong>Tasks</strong> smoke_arc v1, task{html.escape(HOSTILE)} v2.0</p>"
    raw = (
        f'<p><strong>Raw data</strong> <a href="/runs/{run.id}/artifacts/results/">'
        '<small class="muted" title="sha256 ' + "a" * 64 + '">sha256 aaaaaaaaaaaa…</small></p>'
    )
    for url in ("/models/demo-org/tiny/", f"/runs/{run.id}/"):
        page = client.get(url).content.decode()
        assert HOSTILE not in page, url
        assert ran_with in page and tasks in page, url
        assert raw.split("<small")[0] in page and "sha256 aaaaaaaaaaaa…</small></p>" in page, url
    model = client.get("/models/demo-org/tiny/").content.decode()
    block = model.split('<article class="run-block">')[1].split("</article>")[0]
    assert f'<a href="/runs/{run.id}/">Run #{run.id}</a> · smoke · ' in block
    assert '<span class="state state-finished">Finished</span>' in block
    assert "chat template off" in block and "Reproduce these numbers" in block
    assert block.count("<tr><td>") == 2  # a row per score


def test_a_failed_run_says_why_in_its_block(client: Client) -> None:
    run = inspected_run("demo-org/tiny", SHA_B)  # its commit inspected, then it failed
    services.run_fail(run_id=run.id, code="eval:user:time-limit")
    run.refresh_from_db()
    page = client.get("/models/demo-org/tiny/").content.decode()
    block = page.split('<article class="run-block">')[1].split("</article>")[0]
    assert f">Run #{run.id}</a>" in block
    assert '<span class="state state-failed">Failed</span>' in block
    assert f'<p class="error">{html.escape(run.error_reason)}</p>' in block
    assert "Reproduce these numbers" not in block  # nothing was measured
