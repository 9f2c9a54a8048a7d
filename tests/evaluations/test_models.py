"""The QuerySet methods that name the filters pages and services share.

Personas: Mona (a moderator) and Ada (an API user). demo-org/tiny measured 50 % on Smoke ARC
and claimed 95 %: flagged.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from evaluations import services
from evaluations.models import ApiToken, EvaluationRun, Flag, FlagState, RepoDecision, Score
from evaluations.services import moderation, tokens
from tests.factories import SHA_B, arc_claim, finished_run, inspected_run, person, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "Checked the numbers with the author; recorded for the log."


@pytest.fixture
def moderator() -> User:
    return person("mona", moderator=True)


def test_it_counts_only_the_scores_of_finished_runs_as_measured() -> None:
    finished = finished_run("demo-org/tiny")
    evaluating = inspected_run("demo-org/other", sha=SHA_B)
    Score.objects.create(
        run=evaluating,
        benchmark="smoke_arc",
        task="smoke_arc",
        metric="acc",
        filter="none",
        shots=0,
        value=0.9,
    )

    assert set(Score.objects.measured().values_list("run_id", flat=True)) == {finished.id}
    assert Score.objects.count() == 3


def test_it_keeps_the_scores_of_the_repos_asked_for() -> None:
    tiny = finished_run("demo-org/tiny")
    finished_run("demo-org/other", sha=SHA_B)

    scores = Score.objects.measured().of_repos([tiny.submission.repo_id])

    assert {score.run_id for score in scores} == {tiny.id}
    assert scores.count() == 2


def test_it_counts_fetching_running_and_recording_runs_as_in_flight() -> None:
    queued_run("demo-org/queued")
    fetching = inspected_run("demo-org/fetching")
    running = inspected_run("demo-org/running", sha=SHA_B)
    assert services.run_start_evaluating(run_id=running.id, backend="hf")
    finished_run("demo-org/finished")

    assert set(EvaluationRun.objects.in_flight()) == {fetching, running}


def test_it_tells_the_rules_flag_events_from_the_moderators(moderator: User) -> None:
    finished_run("demo-org/tiny")
    arc_claim("tiny", 95.0)
    flag = Flag.objects.get()
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="confirm", reason=REASON)

    assert [event.state for event in flag.events.from_rule()] == [FlagState.OPENED]
    assert [event.state for event in flag.events.newest_first()] == [
        FlagState.CONFIRMED,
        FlagState.OPENED,
    ]


def test_it_puts_the_decision_in_force_first(moderator: User) -> None:
    repo_id = finished_run("demo-org/tiny").submission.repo_id
    for hidden in (True, False):
        moderation.repo_set_hidden(repo_id=repo_id, user=moderator, hidden=hidden, reason=REASON)

    decisions = RepoDecision.objects.filter(repo_id=repo_id).newest_first()

    assert [decision.action for decision in decisions] == ["unhide", "hide"]


def test_it_leaves_revoked_tokens_out_of_the_active_ones() -> None:
    ada = person("ada")
    laptop, _ = tokens.api_token_create(user=ada, name="laptop")
    ci, _ = tokens.api_token_create(user=ada, name="ci")
    tokens.api_token_revoke(user=ada, token_id=laptop.id)

    assert list(ApiToken.objects.active()) == [ci]
    assert ApiToken.objects.count() == 2
