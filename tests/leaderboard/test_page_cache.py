"""The page cache: repeat reads cost one generation read, every change shows on the next
read, 304s for unchanged pages, and a signed-in moderator's page never reaches a visitor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.generation import generation_bump, read_once, site_generation
from evaluations.models import Flag, ModelRepo
from evaluations.services import moderation
from tests.factories import arc_claim, inspected_run, model_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
RANKINGS_PAGE = "/?suite=smoke"
RANKINGS_API = "/api/v1/rankings?suite=smoke"
REASON = "The measurement was reproduced twice; the claim does not hold."


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rankings_table(client: Client) -> str:
    """The rankings card only: "Recent runs" below it names every model too."""
    response = client.get(RANKINGS_PAGE)
    assert response.status_code == 200
    return response.content.decode().split("Recent runs")[0]


def ranked(client: Client) -> dict[str, dict[str, Any]]:
    return {row["hub_id"]: row for row in client.get(RANKINGS_API).json()["rows"]}


# --- Hits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        (RANKINGS_API, 1),  # the generation
        ("/models/demo-org/alpha/", 1),
        ("/api/v1/models/demo-org/alpha/claims", 1),
        ("/api/v1/rankings.csv?suite=smoke", 1),
        (RANKINGS_PAGE, 2),  # the generation, and the progress of runs in flight
    ],
)
def test_it_serves_a_repeat_request_from_the_cache(
    client: Client, django_assert_num_queries: Any, url: str, queries: int
) -> None:
    model_run("alpha", 0.6)
    arc_claim("alpha", 90.0)
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(queries):
        again = client.get(url)
    assert again.status_code == 200 and again.content == first.content


def test_each_query_string_is_a_page_of_its_own(client: Client) -> None:
    model_run("alpha", 0.6)
    model_run("beta", 0.4)
    assert len(client.get(RANKINGS_API).json()["rows"]) == 2
    assert len(client.get(RANKINGS_API + "&limit=1").json()["rows"]) == 1


# --- Never stale -----------------------------------------------------------------------------


def test_a_recorded_run_shows_at_once(client: Client) -> None:
    model_run("alpha", 0.6)
    assert "demo-org/beta" not in rankings_table(client) and "demo-org/beta" not in ranked(client)
    model_run("beta", 0.9)
    assert "demo-org/beta" in rankings_table(client)
    assert ranked(client)["demo-org/beta"]["rank"] == 1


def test_a_flag_raised_by_a_claim_shows_at_once(client: Client) -> None:
    model_run("alpha", 0.5)
    assert "flagged claim" not in rankings_table(client)
    assert ranked(client)["demo-org/alpha"]["flagged"] is False
    arc_claim("alpha", 95.0)  # contradicted by the measured 50.0: a flag opens
    assert "flagged claim" in rankings_table(client)
    assert ranked(client)["demo-org/alpha"]["flagged"] is True


def test_a_moderators_decisions_show_at_once(client: Client, moderator: User) -> None:
    model_run("alpha", 0.5)
    model_run("beta", 0.4)
    arc_claim("alpha", 95.0)
    assert "flagged claim" in rankings_table(client)
    moderation.flag_moderate(
        flag_id=Flag.objects.get().id, user=moderator, action="dismiss", reason=REASON
    )
    assert "flagged claim" not in rankings_table(client)
    assert ranked(client)["demo-org/alpha"]["flagged"] is False
    repo = ModelRepo.objects.get(hub_id="demo-org/beta")
    moderation.repo_set_hidden(repo_id=repo.id, user=moderator, hidden=True, reason=REASON)
    assert "demo-org/beta" not in rankings_table(client) and "demo-org/beta" not in ranked(client)


def test_the_progress_of_a_running_run_is_never_stale(client: Client) -> None:
    def progress() -> list[str]:
        page = client.get(RANKINGS_PAGE).content.decode()
        return re.findall(r"Evaluating</span>\s*(\d+)%", page)

    run = inspected_run("demo-org/alpha")
    services.run_start_evaluating(run_id=run.id, backend="hf")
    services.run_heartbeat(run_id=run.id, done=1, total=10)
    assert progress() == ["10"]
    services.run_heartbeat(run_id=run.id, done=4, total=10)  # no bump: the live tag moves
    assert progress() == ["40"]


def test_every_rankings_page_lists_a_new_run_among_the_recent_runs(client: Client) -> None:
    def recent_runs(url: str) -> str:
        return client.get(url).content.decode().split("Recent runs")[1]

    model_run("alpha", 0.6)
    assert "demo-org/beta" not in recent_runs(RANKINGS_PAGE)  # their part of the page kept
    inspected_run("demo-org/beta")  # its commit pinned: a public row
    for url in (RANKINGS_PAGE, f"{RANKINGS_PAGE}&sort=params&order=asc"):
        assert "demo-org/beta" in recent_runs(url)


# --- Conditional GET -------------------------------------------------------------------------


def test_a_page_says_whether_it_came_from_the_cache(client: Client) -> None:
    model_run("alpha", 0.6)
    for url in (RANKINGS_PAGE, RANKINGS_API, "/models/demo-org/alpha/"):
        assert client.get(url)["X-Cache"] == "miss"
        again = client.get(url)
        assert again["X-Cache"] == "hit" and "demo-org/alpha" in again.content.decode()
    model_run("beta", 0.9)  # a new generation: rendered again
    assert client.get(RANKINGS_PAGE)["X-Cache"] == "miss"


def test_an_unchanged_page_answers_304_until_something_changes(client: Client) -> None:
    model_run("alpha", 0.6)
    for url in (RANKINGS_PAGE, RANKINGS_API, "/models/demo-org/alpha/"):
        first = client.get(url)
        assert first["ETag"].startswith('W/"') and first["Cache-Control"] == "no-cache"
        again = client.get(url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        assert not again.content
    before = client.get(RANKINGS_API)
    assert before["Last-Modified"]
    model_run("beta", 0.9)
    fresh = client.get(RANKINGS_API, headers={"If-None-Match": before["ETag"]})
    assert fresh.status_code == 200 and fresh["ETag"] != before["ETag"]


def test_if_none_match_star_is_304_only_for_a_page_that_exists(client: Client) -> None:
    model_run("alpha", 0.6)
    any_version = {"If-None-Match": "*"}
    assert client.get("/models/demo-org/alpha/").status_code == 200
    assert client.get("/models/demo-org/alpha/", headers=any_version).status_code == 304
    assert client.get("/models/nobody/nothing/", headers=any_version).status_code == 404
    assert client.get("/api/v1/models/nobody/nothing", headers=any_version).status_code == 404
    assert client.get("/?suite=smoke&page=-1", headers=any_version).status_code == 400


def test_a_bump_inside_a_transaction_moves_the_generation_again_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    start = site_generation().value
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            generation_bump()
            generation_bump()
            inside = site_generation().value
    assert start < inside < site_generation().value
    assert len(callbacks) == 1  # one more row per transaction, however many bumps


def test_an_uncached_page_reads_the_generation_once(client: Client) -> None:
    model_run("alpha", 0.6)
    arc_claim("alpha", 90.0)
    for url in (RANKINGS_PAGE, "/?suite=smoke&sort=name&page=1", "/models/demo-org/alpha/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200  # the cache key, standings, licences
        reads = [q for q in queries if "evaluations_generationbump" in q["sql"]]
        assert len(reads) == 1, url


def test_a_bump_inside_a_request_is_read_by_the_rest_of_it() -> None:
    with read_once():
        before = site_generation().value
        assert site_generation().value == before
        generation_bump()
        after = site_generation().value
    assert before < after == site_generation().value


# --- Who sees which page ---------------------------------------------------------------------


def test_a_moderators_page_never_reaches_a_visitor(client: Client, moderator: User) -> None:
    model_run("alpha", 0.6)
    mona = signed_in(moderator)
    for first, then in ((mona, client), (client, mona)):
        first_page = first.get("/models/demo-org/alpha/").content.decode()
        then_page = then.get("/models/demo-org/alpha/").content.decode()
        mona_page, visitor_page = (
            (first_page, then_page) if first is mona else (then_page, first_page)
        )
        assert "Hide from rankings" in mona_page and ">mona<" in mona_page
        assert "Sign out" in mona_page
        assert "Hide from rankings" not in visitor_page and "Sign out" not in visitor_page
        assert "csrfmiddlewaretoken" not in visitor_page


def test_a_signed_in_page_is_not_kept_and_says_it_varies_by_cookie(
    client: Client, moderator: User
) -> None:
    model_run("alpha", 0.6)
    mona = signed_in(moderator)
    assert "Cookie" in mona.get(RANKINGS_PAGE)["Vary"]
    assert "ETag" not in mona.get(RANKINGS_PAGE)
    assert "X-Cache" not in mona.get(RANKINGS_PAGE)  # never kept: neither a hit nor a miss
    assert "Cookie" in client.get(RANKINGS_PAGE)["Vary"]
