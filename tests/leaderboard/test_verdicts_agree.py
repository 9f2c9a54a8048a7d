"""The model page, its header, the claims API, the evidence CSV and the rankings cannot
disagree on a verdict: every claim of a seeded database, read as a visitor would."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from evaluations.evidence.verdicts import Verdict
from evaluations.models import Claim, FlagEvent, FlagState
from evaluations.services import moderation
from tests.factories import person

pytestmark = pytest.mark.django_db


def check() -> str:
    out = io.StringIO()
    call_command("check_verdicts", stdout=out)
    return out.getvalue()


def test_every_surface_gives_every_seeded_claim_the_same_verdict() -> None:
    call_command("seed_demo", models=60, revisions=2, stdout=io.StringIO())

    report = check()
    assert f"{Claim.objects.current().count()} claims, 0 disagreements" in report
    assert Verdict.CONTRADICTED.value in report


def test_a_dismissed_flag_leaves_page_header_api_and_rankings_in_agreement() -> None:
    call_command("seed_demo", models=30, revisions=2, stdout=io.StringIO())
    opened = FlagEvent.objects.filter(state=FlagState.OPENED).select_related("flag").first()
    moderator = person("mona", moderator=True)

    moderation.flag_moderate(
        flag_id=opened.flag_id, user=moderator, action="dismiss", reason="Prompt format differs."
    )

    assert "0 disagreements" in check()
