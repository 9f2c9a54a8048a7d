"""“My submissions”: a signed-in author sees every submission, run, claim and flag of their
repos (and what they submitted elsewhere), each with its state and the next action."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.models import Flag
from evaluations.services import moderation
from tests.factories import arc_claim, finished_run, model_run, person, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def ada(client: Client):
    """Ada, whom the hub knows as a member of demo-org: an author of demo-org/*."""
    user = person("ada", hub="ada", orgs=("demo-org",))
    client.force_login(user)
    return user


def rows(page: str, table: str) -> dict[str, str]:
    """The rows of one table class, by the run or claim id their row carries."""
    found = {}
    for body in page.split(f'<table class="{table}">')[1:]:
        body = body.split("</table>")[0]
        found.update(re.findall(r'data-(?:run|claim)="(\d+)">(.*?)</tr>', body, flags=re.S))
    return {key: " ".join(row.split()) for key, row in found.items()}


def test_a_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get("/account/submissions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_links_it_when_signed_in(client: Client, ada) -> None:
    assert 'href="/account/submissions/">My submissions</a>' in client.get("/").content.decode()
    client.logout()
    assert "My submissions" not in client.get("/").content.decode()


def test_it_lists_runs_claims_and_flags_with_the_next_action(client: Client, ada) -> None:
    measured = finished_run("demo-org/tiny", value=0.5)
    arc_claim("tiny", 95.0)  # contradicted: a flag opens
    waiting = queued_run("demo-org/next", submitted_by=ada)
    refused = queued_run("demo-org/pickled")
    services.run_fail(run_id=refused.id, code="eval:user:no-safetensors")
    page = client.get("/account/submissions/").content.decode()
    runs = rows(page, "my-runs")
    assert "Finished" in runs[str(measured.id)] and ">–</td>" in runs[str(measured.id)]
    assert "wait: queued" in runs[str(waiting.id)] and "by ada" in runs[str(waiting.id)]
    assert "Refused" in runs[str(refused.id)]
    assert "fix the repo, then submit it again" in runs[str(refused.id)]
    flag = Flag.objects.get()
    claim = rows(page, "my-claims")[str(flag.claim_id)]
    assert "contradicted" in claim and f'href="/flags/{flag.id}/"' in claim
    assert "answer the flag, or correct or withdraw the claim" in claim
    assert "things to do" in page or "thing to do" in page


def test_a_moderators_question_asks_the_author_to_answer(client: Client, ada) -> None:
    finished_run("demo-org/tiny", value=0.5)
    arc_claim("tiny", 95.0)
    flag = Flag.objects.get()
    mona = person("mona", moderator=True)
    moderation.flag_moderate(
        flag_id=flag.id, user=mona, action="ask-author", reason="Which prompt did you use?"
    )
    page = client.get("/account/submissions/").content.decode()
    assert "answer the flag: a moderator asked you" in rows(page, "my-claims")[str(flag.claim_id)]


def test_it_shows_nothing_of_other_peoples_repos(client: Client, ada) -> None:
    queued_run("other-org/model")
    model_run("tiny", 0.5)
    page = client.get("/account/submissions/").content.decode()
    assert "other-org/model" not in page and "demo-org/tiny" in page
    sam = person("sam")
    queued_run("other-org/model", submitted_by=sam)
    client.force_login(sam)
    page = client.get("/account/submissions/").content.decode()
    assert "other-org/model" in page and "demo-org/tiny" not in page
    assert "submitted or reported by you" in page


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/account/submissions/").status_code == 200
    return len(queries)


def test_its_queries_do_not_grow_with_the_repos(client: Client, ada) -> None:
    def add(names: list[str]) -> None:
        for name in names:
            model_run(name, 0.5)
            arc_claim(name, 95.0)
            queued_run(f"demo-org/{name}", ref="dev", submitted_by=ada)

    add(["one"])
    few = _queries(client)
    add(["two", "three", "four", "five"])
    assert _queries(client) == few
    assert few <= 20
