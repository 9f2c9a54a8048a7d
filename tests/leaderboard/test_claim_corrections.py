"""Correcting or withdrawing a claim from the model page, and what the submit page says it
recorded. Each records a new claim row that supersedes the claim: nothing is edited or
deleted, and the history is on the model page."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations import services
from evaluations.models import Claim, ClaimSource, EvaluationRun, FlagState
from evaluations.services import ClaimInput
from evaluations.services.flags import _latest_event
from tests.factories import arc_claim, finished_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
PAGE = "/models/demo-org/tiny/"
SOURCE = "https://example.org/launch-post"


@pytest.fixture
def ada() -> User:
    """An author: the hub says she is a member of demo-org."""
    return person("ada", hub="ada", orgs=("demo-org",))


@pytest.fixture
def overclaim() -> Claim:
    """demo-org/tiny measured at 50 % on Smoke ARC, claimed at 95 %: flagged."""
    finished_run("demo-org/tiny", value=0.5)
    arc_claim("tiny", 95.0)
    return Claim.objects.get()


def text(response) -> str:
    """The page's words, tags left out."""
    words = re.sub(r"<[^>]+>", "", response.content.decode())
    return " ".join(html.unescape(words).split())


def test_an_author_corrects_a_claim_and_both_stay_on_record(
    client: Client, ada: User, overclaim: Claim
) -> None:
    client.force_login(ada)
    assert "Correct or withdraw this claim" in client.get(PAGE).content.decode()
    response = client.post(
        f"/claims/{overclaim.id}/correct/",
        {"value": "51", "unit": "percent", "note": "We mistyped the table."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{PAGE}#claim-history"
    corrected = Claim.objects.get(supersedes=overclaim)
    assert corrected.value == pytest.approx(0.51) and corrected.shots == 0
    assert corrected.source == ClaimSource.SITE and corrected.reporter == ada
    assert Claim.objects.get(id=overclaim.id).value == pytest.approx(0.95)  # kept as it was
    page = text(response)
    assert f"Recorded 1 claim: #{corrected.id} Smoke ARC 51.0 % (0-shot)" in page
    assert f"(replaces claim #{overclaim.id})" in page
    assert "corrected to 51 (percent (0–100))" in page and "“We mistyped the table.”" in page
    flag_event = _latest_event(overclaim.flag)
    assert flag_event.state == FlagState.RESOLVED and "corrected claim" in flag_event.reason


def test_an_author_withdraws_a_claim_as_a_new_record(
    client: Client, ada: User, overclaim: Claim
) -> None:
    client.force_login(ada)
    response = client.post(
        f"/claims/{overclaim.id}/withdraw/", {"note": "Measured on another split."}, follow=True
    )
    withdrawal = Claim.objects.get(supersedes=overclaim)
    assert withdrawal.withdrawn and withdrawal.value is None and withdrawal.label == "Smoke ARC"
    assert list(Claim.objects.current()) == []
    assert Claim.objects.count() == 2
    page = text(response)
    assert f"Recorded 1 claim: #{withdrawal.id} Smoke ARC withdrawn" in page
    assert "— withdrawn on" in page and "“Measured on another split.”" in page
    assert "No scores have been claimed for this model" in page
    assert _latest_event(overclaim.flag).reason == f"Claim withdrawn (#{withdrawal.id})."
    client.logout()
    rankings = client.get("/?suite=smoke").content.decode()
    assert "no claims" in rankings and "flagged claim" not in rankings


def test_only_the_latest_version_of_a_claim_can_be_corrected(
    client: Client, ada: User, overclaim: Claim
) -> None:
    client.force_login(ada)
    client.post(f"/claims/{overclaim.id}/withdraw/", {})
    response = client.post(f"/claims/{overclaim.id}/correct/", {"value": "50", "unit": "percent"})
    assert response.status_code == 400
    assert "only the latest version of a claim can be corrected" in text(response)
    assert Claim.objects.count() == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ({"unit": "percent"}, "Give the corrected value."),
        ({"value": "1.5", "unit": "fraction"}, "A fraction is between 0 and 1"),
        ({"value": "150", "unit": "percent"}, "less than or equal to 100"),
        ({"value": "50", "unit": "parsecs"}, "Select a valid choice"),
    ],
)
def test_a_bad_correction_is_a_400_and_records_nothing(
    client: Client, ada: User, overclaim: Claim, data: dict, message: str
) -> None:
    client.force_login(ada)
    response = client.post(f"/claims/{overclaim.id}/correct/", data)
    assert response.status_code == 400 and message in text(response)
    assert Claim.objects.count() == 1


def test_someone_else_cannot_correct_or_withdraw_an_author_claim(
    client: Client, overclaim: Claim
) -> None:
    assert client.post(f"/claims/{overclaim.id}/withdraw/").status_code == 302  # sign in first
    otto = person("otto", hub="otto", orgs=("other-lab",))
    client.force_login(otto)
    assert "Correct or withdraw this claim" not in client.get(PAGE).content.decode()
    response = client.post(f"/claims/{overclaim.id}/withdraw/", {})
    assert response.status_code == 403 and "Only authors of demo-org" in text(response)
    assert client.post("/claims/999999/withdraw/", {}).status_code == 404
    assert Claim.objects.count() == 1


def test_a_third_party_reporter_withdraws_their_own_claim(client: Client, ada: User) -> None:
    finished_run("demo-org/tiny", value=0.5)
    sam = person("sam")
    services.claims_submit(
        user=sam,
        repo_id="demo-org/tiny",
        third_party=True,
        claims=[
            ClaimInput(
                benchmark="smoke_arc", value=70.0, unit="percent", shots=0, source_url=SOURCE
            )
        ],
    )
    theirs = Claim.objects.get()
    client.force_login(ada)  # an author, but not the reporter of this third-party claim
    assert client.post(f"/claims/{theirs.id}/withdraw/", {}).status_code == 403
    client.force_login(sam)
    assert client.post(f"/claims/{theirs.id}/withdraw/", {}).status_code == 302
    withdrawal = Claim.objects.get(supersedes=theirs)
    assert withdrawal.source == ClaimSource.THIRD_PARTY and withdrawal.source_url == SOURCE


def test_the_submit_page_confirms_the_claims_and_names_the_run_it_queued(
    client: Client, ada: User
) -> None:
    finished_run("demo-org/tiny", value=0.5)
    client.force_login(ada)
    data = {"repo_id": "demo-org/tiny", "ref": "main", "suite": "smoke", "precision": "auto"}
    data.update({"claim-smoke_arc-value": "72.5", "claim-smoke_arc-shots": "5"})
    response = client.post("/submit/", data, follow=True)
    claim = Claim.objects.get()
    page = response.content.decode()
    assert f"Recorded 1 claim: #{claim.id} Smoke ARC 72.5 % (5-shot)." in html.unescape(page)
    matched = re.search(r'claimed setting: <a href="/runs/(\d+)/">run #\1</a>', page)
    assert matched, "the claim-matched run is named and linked"
    run = EvaluationRun.objects.get(id=int(matched.group(1)))
    assert run.submission.tasks == [{"benchmark": "smoke_arc", "shots": 5}]
