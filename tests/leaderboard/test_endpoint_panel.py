"""The hosted-endpoint signal on the model page, in the API and in the moderators' pages, from
checks recorded through the service the worker calls (tests/workers/test_endpoint_check.py
runs the real check).

demo-org/tiny was measured at SHA_A; its author registered https://api.example.org/v1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from evaluations.models import EndpointCheck, Flag, HostedEndpoint
from evaluations.services import endpoints
from tests.factories import SHA_A, finished_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

PREFLIGHT = [
    {"key": "sampling", "title": "Sampling parameters honoured", "passed": True, "detail": "ok"},
    {"key": "chat-template", "title": "Chat template", "passed": None, "detail": "none in repo"},
]
MMD = {
    "statistic": 0.0421,
    "p_value": 0.001,
    "prompts": 25,
    "samples_a": 10,
    "samples_b": 10,
    "permutations": 1000,
}
SCORES = [
    {
        "benchmark": "smoke_arc",
        "display_name": "Smoke ARC",
        "metric": "acc",
        "filter": "none",
        "n": 40,
        "endpoint": 0.25,
        "weights": 0.5,
        "difference": -0.25,
        "half_width_95": 0.1,
    }
]


def recorded(verdict: str, summary: str, **evidence: Any) -> EndpointCheck:
    run = finished_run("demo-org/tiny", sha=SHA_A)
    endpoint = HostedEndpoint.objects.create(
        repo_id=run.submission.repo_id,
        base_url="https://api.example.org/v1",
        served_model="tiny",
        api_kind="completions",
        registered_as="author",
        secret_encrypted="gAAAA-not-a-real-token",
    )
    return endpoints.endpoint_check_record(
        endpoint_id=endpoint.id,
        revision_id=run.revision_id,
        weights_run_id=run.id,
        verdict=verdict,
        summary=summary,
        evidence={"preflight": PREFLIGHT, "settings": {"alpha": 0.05}, **evidence},
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_a_model_without_an_endpoint_says_so(client: Client) -> None:
    finished_run("demo-org/tiny")
    html = client.get("/models/demo-org/tiny/").content.decode()
    assert 'id="signal-endpoint"' in html
    assert "No hosted endpoint is registered for this model." in html
    assert "Register a hosted endpoint" not in html  # visitors get no form


def test_the_page_shows_preflight_beside_the_test_and_the_paired_scores(client: Client) -> None:
    check = recorded("differs", "Differs from the released weights.", mmd=MMD, scores=SCORES)

    html = client.get("/models/demo-org/tiny/").content.decode()

    assert "differs from the released weights" in html and f"flag #{check.flag.id}" in html
    assert "Sampling parameters honoured" in html and "inconclusive" in html  # chat template
    assert "0.001" in html and "25 × 10 (endpoint), 10 (weights)" in html
    assert "Smoke ARC" in html and "-25.0 ± 10.0" in html
    assert "It does not say" in html and "quantised copy" in html
    assert "gAAAA" not in html and "API key stored encrypted, not shown" in html
    api = client.get("/api/v1/models/demo-org/tiny/endpoints").json()
    assert api[0]["checks"][0]["evidence"]["mmd"]["p_value"] == 0.001
    assert "secret" not in str(api).replace("has_secret", "")


def test_moderators_see_the_endpoint_flag_with_its_evidence() -> None:
    check = recorded("differs", "Differs from the released weights.", mmd=MMD, scores=SCORES)
    flag = Flag.objects.get()
    assert flag.endpoint_check == check and flag.repo.hub_id == "demo-org/tiny"
    mona = Client()
    mona.force_login(person("mona", moderator=True))

    queue = mona.get("/moderation/").content.decode()
    detail = mona.get(f"/flags/{flag.id}/").content.decode()

    for html in (queue, detail):
        assert "hosted endpoint differs from the released weights" in html.lower()
        assert "https://api.example.org/v1" in html and "Smoke ARC: -25.0 ± 10.0" in html
    assert f"#endpoint-{check.endpoint_id}" in detail


def test_a_misconfigured_endpoint_opens_no_flag(client: Client) -> None:
    failed = [{**PREFLIGHT[0], "passed": False, "detail": "temperature 0 varied"}]
    recorded("misconfigured", "Pre-flight failed: Sampling parameters honoured.", preflight=failed)
    assert not Flag.objects.exists()
    html = client.get("/models/demo-org/tiny/").content.decode()
    assert "<strong>failed</strong>" in html and "temperature 0 varied" in html
