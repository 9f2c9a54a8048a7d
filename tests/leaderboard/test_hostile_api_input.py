"""Hostile bodies sent to the claims API get a clear 4xx, never a 500, and record nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluations.models import Claim
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
CLAIM = '"benchmark": "smoke_arc", "value": 50, "unit": "percent", "shots": 0'


@pytest.mark.parametrize("body", [
    '{"repo_id": "demo-org/tiny", "claims": [{%s, "system_prompt": "a\\u0000b"}]}' % CLAIM,
    '{"repo_id": "demo-org/tiny", "claims": [{%s, "system_prompt": "\\ud800"}]}' % CLAIM,
    '{"repo_id": "demo-org/tiny", "claims": [{%s, "source_url": "https://x.org/\\udfff"}]}' % CLAIM,
    '{"repo_id": "demo-org/tiny\\u0000", "claims": [{%s}]}' % CLAIM,
    '{"repo_id": "demo-org/tiny", "claims": [{%s, "source_url": "javascript:alert(1)"}]}' % CLAIM,
    b'{"repo_id": "demo-org/tiny", "claims": [{"benchmark": "\xff\xfe", "value": 50}]}',
    '{"repo_id": "demo-org/tiny", "claims": [{%s, "system_prompt": "%s"}]}' % (CLAIM, "x" * 6000),
    "[" * 5000,
])
def test_it_answers_hostile_claims_with_a_4xx(client: Client, body: str | bytes) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    response = client.post("/api/v1/claims", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content[:300]
    assert not Claim.objects.exists()


def test_an_oversized_body_is_refused(client: Client, settings) -> None:
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    body = '{"repo_id": "demo-org/tiny", "claims": [{%s, "system_prompt": "%s"}]}' % (
        CLAIM, "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    response = client.post("/api/v1/claims", body, content_type="application/json")
    assert 400 <= response.status_code < 500 and not Claim.objects.exists()
