"""The claims API: JSON in, the same services as the form, clear 4xx for bad input."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from evaluations.models import Claim
from tests.factories import SHA_A, finished_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def client(client: Client) -> Client:
    """Signed in as Ada, whom the hub knows as a member of demo-org (an author)."""
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    return client


def post(client: Client, body: dict):
    return client.post("/api/v1/claims", body, content_type="application/json")


def arc(value: float, **extra) -> dict:
    return {"benchmark": "smoke_arc", "value": value, "unit": "percent", "shots": 0, **extra}


def test_an_author_posts_claims_and_reads_the_verdicts(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.5)
    response = post(client, {"repo_id": "demo-org/tiny", "claims": [arc(95.0)]})
    assert response.status_code == 201
    [created] = response.json()
    assert created["value"] == pytest.approx(0.95) and created["source"] == "api"
    [row] = client.get("/api/v1/models/demo-org/tiny/claims").json()
    assert row["verdict"] == "contradicted" and row["severity"] == "severe"
    assert row["measured"] == 0.5 and "Claimed 95.0, measured 50.0" in row["explanation"]


def test_a_third_party_claim_needs_a_source_and_says_who(client: Client) -> None:
    client.force_login(person("jo", hub="jo-journalist"))
    body = {"repo_id": "demo-org/tiny", "third_party": True, "claims": [arc(80.0)]}
    assert post(client, body).status_code == 400
    body["claims"] = [arc(80.0, source_url="https://example.org/launch")]
    assert post(client, body).status_code == 201
    claim = Claim.objects.get()
    assert claim.source == "third-party" and claim.reported_by == "jo-journalist"
    assert claim.reporter.username == "jo"


def test_a_correction_supersedes_through_the_api(client: Client) -> None:
    [first] = post(client, {"repo_id": "demo-org/tiny", "claims": [arc(80.0)]}).json()
    [fixed] = post(
        client, {"repo_id": "demo-org/tiny", "claims": [arc(70.0, supersedes=first["id"])]}
    ).json()
    assert fixed["supersedes"] == first["id"] and Claim.objects.count() == 2


@pytest.mark.parametrize(
    "body, status",
    [
        ({"repo_id": "demo-org/tiny", "claims": [arc(120.0)]}, 400),
        ({"repo_id": "not a repo", "claims": [arc(50.0)]}, 422),  # the schema says so
        (
            {"repo_id": "demo-org/tiny", "claims": [{"benchmark": "nope", "value": 1, "shots": 0}]},
            400,
        ),
        (
            {"repo_id": "demo-org/tiny", "claims": [arc(50.0, source_url="javascript:alert(1)")]},
            400,
        ),
        ({"repo_id": "demo-org/tiny", "commit_sha": SHA_A, "claims": [arc(50.0)]}, 400),
        ({"repo_id": "demo-org/tiny", "claims": []}, 422),
        ({"repo_id": "demo-org/tiny", "claims": [{"benchmark": "smoke_arc"}]}, 422),
        ({"claims": "x"}, 422),
    ],
)
def test_bad_claims_get_a_clear_4xx(client: Client, body: dict, status: int) -> None:
    response = post(client, body)
    assert response.status_code == status and response.json()["detail"]
    assert not Claim.objects.exists()


def test_malformed_json_is_a_4xx(client: Client) -> None:
    response = client.post("/api/v1/claims", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_the_api_publishes_an_openapi_document(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/claims" in document["paths"]


def test_the_api_documentation_loads_every_asset_from_our_own_server(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "https://" not in page and "cdn" not in page.lower()
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    for url in assets:
        assert url.startswith("/static/") and client.get(url).status_code == 200, url
