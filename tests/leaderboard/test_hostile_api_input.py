"""Hostile bodies sent to the claims API get a clear 4xx, never a 500, and record nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluations.models import Claim
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
CLAIM = '"benchmark": "smoke_arc", "value": 50, "unit": "percent", "shots": 0'


def body(extra: str = "", repo_id: str = "demo-org/tiny") -> str:
    """A claims body as raw JSON text, so escapes like \\u0000 reach the parser as sent."""
    return '{"repo_id": "' + repo_id + '", "claims": [{' + CLAIM + extra + "}]}"


@pytest.mark.parametrize(
    "raw",
    [
        body(', "system_prompt": "a\\u0000b"'),
        body(', "system_prompt": "\\ud800"'),
        body(', "source_url": "https://x.org/\\udfff"'),
        body(repo_id="demo-org/tiny\\u0000"),
        body(', "source_url": "javascript:alert(1)"'),
        b'{"repo_id": "demo-org/tiny", "claims": [{"benchmark": "\xff\xfe", "value": 50}]}',
        body(', "system_prompt": "' + "x" * 6000 + '"'),
        '{"repo_id": "demo-org/tiny", "commit_sha": "\\u0000", "claims": [{' + CLAIM + "}]}",
        '{"repo_id": "demo-org/tiny", "commit_sha": "\\ud800", "claims": [{' + CLAIM + "}]}",
        '{"repo_id": "demo-org/tiny", "commit_sha": "'
        + "A" * 40
        + '", "claims": [{'
        + CLAIM
        + "}]}",
        "[" * 5000,
    ],
)
def test_it_answers_hostile_claims_with_a_4xx(client: Client, raw: str | bytes) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    response = client.post("/api/v1/claims", raw, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content[:300]
    assert not Claim.objects.exists()


def test_an_oversized_body_is_refused(client: Client, settings) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    raw = body(', "system_prompt": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"')
    response = client.post("/api/v1/claims", raw, content_type="application/json")
    assert 400 <= response.status_code < 500 and not Claim.objects.exists()


def test_it_refuses_a_commit_that_is_not_a_full_sha(client: Client) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    raw = '{"repo_id": "demo-org/tiny", "commit_sha": "main", "claims": [{' + CLAIM + "}]}"
    response = client.post("/api/v1/claims", raw, content_type="application/json")
    assert response.status_code == 400 and "40-character SHA" in response.json()["detail"]


def correction(claim_id: int, value: int) -> str:
    return (
        '{"benchmark": "smoke_arc", "value": ' + str(value) + ', "unit": "percent", '
        '"shots": 0, "supersedes": ' + str(claim_id) + "}"
    )


def test_it_refuses_two_corrections_of_one_claim_in_a_batch(client: Client) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    first = client.post("/api/v1/claims", body(), content_type="application/json").json()[0]
    raw = (
        '{"repo_id": "demo-org/tiny", "claims": ['
        + correction(first["id"], 60)
        + ", "
        + correction(first["id"], 70)
        + "]}"
    )
    response = client.post("/api/v1/claims", raw, content_type="application/json")
    assert response.status_code == 400
    assert f"Claim #{first['id']} is corrected twice" in response.json()["detail"]
    assert Claim.objects.count() == 1


def test_a_correction_that_loses_a_race_gets_a_400(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluations.services import claims

    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    first = client.post("/api/v1/claims", body(), content_type="application/json").json()[0]
    raw = '{"repo_id": "demo-org/tiny", "claims": [' + correction(first["id"], 60) + "]}"
    assert client.post("/api/v1/claims", raw, content_type="application/json").status_code == 201
    # The other request checked before this correction committed: its check saw a current claim.
    monkeypatch.setattr(claims, "_check_supersedes", lambda repo, checked: None)
    response = client.post(
        "/api/v1/claims", raw.replace("60", "70"), content_type="application/json"
    )
    assert response.status_code == 400 and "at the same time" in response.json()["detail"]
    assert Claim.objects.count() == 2


@pytest.mark.parametrize(
    "repo_id", ["demo-org--x/tiny", "demo-org/ti..ny", "demo-org/tiny/extra", "-demo/tiny", "tiny"]
)
def test_the_schema_refuses_repo_ids_the_hub_would_not_take(client: Client, repo_id: str) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    response = client.post("/api/v1/claims", body(repo_id=repo_id), content_type="application/json")
    assert response.status_code == 422, response.content[:300]
    assert response.json()["detail"][0]["loc"][-1] == "repo_id" and not Claim.objects.exists()
