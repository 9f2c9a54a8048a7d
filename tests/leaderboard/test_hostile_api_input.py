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
    return '{"repo_id": "' + repo_id + '", "claims": [{' + CLAIM + extra + '}]}'


@pytest.mark.parametrize("raw", [
    body(', "system_prompt": "a\\u0000b"'),
    body(', "system_prompt": "\\ud800"'),
    body(', "source_url": "https://x.org/\\udfff"'),
    body(repo_id="demo-org/tiny\\u0000"),
    body(', "source_url": "javascript:alert(1)"'),
    b'{"repo_id": "demo-org/tiny", "claims": [{"benchmark": "\xff\xfe", "value": 50}]}',
    body(', "system_prompt": "' + "x" * 6000 + '"'),
    "[" * 5000,
])
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
