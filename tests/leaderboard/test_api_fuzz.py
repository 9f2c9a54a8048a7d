"""Schema-driven fuzzing of the JSON API: schemathesis reads the OpenAPI document
django-ninja generates and sends generated requests, valid and invalid, through the WSGI app
in process. Every answer must be no server error, carry a status code and content type the
document declares, and have a body that matches the declared schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from evaluations.services import tokens
from leaderboard.wsgi import application
from tests.factories import SHA_B, arc_claim, finished_run, model_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request; the test's
    transaction lives on that connection. Django's test client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(keep_test_connection: None) -> Any:
    """The API's own document, with a few models, runs, claims and a flag behind it."""
    model_run("tiny", 0.5)
    model_run("small", 0.7)
    finished_run("demo-org/tiny", sha=SHA_B, value=0.55, ref="v2")
    arc_claim("tiny", 90.0)  # far above the measured 50 %: contradicted, flagged
    arc_claim("small", 71.0)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str] | None = None) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        if mode == GenerationMode.POSITIVE:
            # Input the document allows is never refused for its form by the endpoint.
            assert "Enter a Hugging Face repo id" not in response.text, case.body

    try:
        check()
    except Unsatisfiable:
        # Nothing to get wrong: every string is a valid owner and name in a path.
        assert mode == GenerationMode.NEGATIVE


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_answers_every_generated_request_by_its_schema(
    api_schema: Any, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        fuzz(operation, mode)


def test_a_signed_in_author_gets_only_answers_the_document_declares(api_schema: Any) -> None:
    """With a valid token the claims endpoint checks what it is sent; every repo id the
    document allows must pass that check (the rest of the claim may still be refused)."""
    _, token = tokens.api_token_create(user=person("ada", hub="ada", orgs=("demo-org",)), name="ci")
    [create_claims] = [
        result.ok()
        for result in api_schema.get_all_operations()
        if result.ok().method.upper() == "POST" and result.ok().path.endswith("/claims")
    ]
    fuzz(create_claims, GenerationMode.POSITIVE, headers={"Authorization": f"Bearer {token}"})
