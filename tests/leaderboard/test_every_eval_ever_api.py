"""GET /api/v1/runs/<id>/every-eval-ever, and the run page's link to it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.every_eval_ever_support import SAMPLES_SHA, run_with_samples, schema_errors
from tests.factories import queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def url(run_id: int) -> str:
    return f"/api/v1/runs/{run_id}/every-eval-ever"


def test_it_serves_a_finished_run_as_a_valid_record(client: Client) -> None:
    run = run_with_samples()
    response = client.get(url(run.id))
    assert response.status_code == 200
    record = response.json()
    assert schema_errors(record) == []
    assert record["source_metadata"]["evaluator_relationship"] == "third_party"
    detailed = record["detailed_evaluation_results"]
    assert detailed["checksum"] == SAMPLES_SHA
    assert detailed["additional_details"]["url"] == (
        f"http://testserver/runs/{run.id}/artifacts/samples/"
    )


def test_it_answers_with_an_etag_and_304(client: Client) -> None:
    run = run_with_samples()
    etag = client.get(url(run.id))["ETag"]
    assert client.get(url(run.id), headers={"If-None-Match": etag}).status_code == 304


def test_it_answers_404_for_a_run_that_is_not_there(client: Client) -> None:
    response = client.get(url(424242))
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no run 424242."}


def test_it_answers_400_for_a_run_that_has_not_finished(client: Client) -> None:
    run = queued_run()
    response = client.get(url(run.id))
    assert response.status_code == 400
    assert "is queued, not finished" in response.json()["detail"]


def test_it_answers_422_for_an_id_that_is_not_one(client: Client) -> None:
    assert client.get("/api/v1/runs/0/every-eval-ever").status_code == 422


def test_the_openapi_document_lists_it(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    responses = paths["/api/v1/runs/{run_id}/every-eval-ever"]["get"]["responses"]
    assert {"200", "400", "404"} <= set(responses)


def test_the_run_page_links_a_finished_run_to_its_record(client: Client) -> None:
    run = run_with_samples()
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert f'href="{url(run.id)}"' in page


def test_the_run_page_of_a_queued_run_has_no_such_link(client: Client) -> None:
    run = queued_run()
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "every-eval-ever" not in page
