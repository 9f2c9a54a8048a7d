"""Moderators cancel and retry runs from the run page, as every moderator action answers:
403 for anyone else, 400 with the run page and the message for a refusal, and a redirect
with a message once recorded. A retry is a new run; the old one stays as it was."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations import services
from evaluations.models import EvaluationRun, RunAction, RunState
from tests.factories import finished_run, person, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "The worker ran out of disk; the author asked for another try."


@pytest.fixture
def moderator() -> User:
    return person("mona", moderator=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def failed_run() -> EvaluationRun:
    run = queued_run("demo-org/flaky")
    assert services.run_fail(run_id=run.id, code="eval:infra:hub-unreachable")
    return run


def test_a_moderator_sees_cancel_on_a_queued_run_and_a_visitor_sees_neither_form(
    moderator: User,
) -> None:
    run = queued_run()
    page = signed_in(moderator).get(f"/runs/{run.id}/").content.decode()
    assert f'action="/moderation/runs/{run.id}/cancel/"' in page and "Cancel this run" in page
    assert "Retry as a new run" not in page
    visitor_page = Client().get(f"/runs/{run.id}/").content.decode()
    assert "/moderation/runs/" not in visitor_page


def test_a_moderator_sees_retry_on_a_failed_run(moderator: User) -> None:
    run = failed_run()
    page = signed_in(moderator).get(f"/runs/{run.id}/").content.decode()
    assert f'action="/moderation/runs/{run.id}/retry/"' in page and "data-confirm=" in page
    assert "Cancel this run" not in page


def test_a_moderator_cancels_a_queued_run_on_the_record(moderator: User) -> None:
    run = queued_run()
    client = signed_in(moderator)
    response = client.post(f"/moderation/runs/{run.id}/cancel/", {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.id}/"
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    action = RunAction.objects.get()
    assert (action.action, action.actor, action.reason) == ("cancel-run", "mona", REASON)
    assert action.state_before == RunState.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert f"Run #{run.id} cancelled: recorded." in page


def test_cancelling_a_finished_run_is_refused_with_400_on_the_run_page(moderator: User) -> None:
    run = finished_run()
    response = signed_in(moderator).post(f"/moderation/runs/{run.id}/cancel/", {"reason": REASON})
    page = response.content.decode()
    assert response.status_code == 400 and f"Run #{run.id}" in page
    assert "only a queued, fetching or evaluating run can be cancelled" in page
    run.refresh_from_db()
    assert run.state == RunState.FINISHED and not RunAction.objects.exists()


def test_a_moderator_retries_a_failed_run_as_a_new_run(moderator: User) -> None:
    run = failed_run()
    client = signed_in(moderator)
    response = client.post(f"/moderation/runs/{run.id}/retry/", {"reason": REASON})
    assert response.status_code == 302
    new = EvaluationRun.objects.exclude(id=run.id).get()
    assert new.state == RunState.QUEUED and new.submission_id == run.submission_id
    run.refresh_from_db()
    assert run.state == RunState.FAILED  # never updated in place
    action = RunAction.objects.get()
    assert (action.action, action.new_run_id, action.reason) == ("retry-run", new.id, REASON)
    page = client.get(response["Location"]).content.decode()
    assert f"Run #{run.id} retried as run #{new.id}: recorded." in page
    assert f'href="/runs/{new.id}/"' in page  # the attempts list links the new run


def test_a_run_already_retried_is_not_retried_twice(moderator: User) -> None:
    run = failed_run()
    client = signed_in(moderator)
    client.post(f"/moderation/runs/{run.id}/retry/", {"reason": REASON})
    response = client.post(f"/moderation/runs/{run.id}/retry/", {"reason": REASON})
    assert response.status_code == 400
    assert f"Run #{run.id} was already retried as run #" in response.content.decode()
    assert EvaluationRun.objects.count() == 2 and RunAction.objects.count() == 1


def test_retrying_a_run_in_flight_is_refused_with_400(moderator: User) -> None:
    run = queued_run()
    response = signed_in(moderator).post(f"/moderation/runs/{run.id}/retry/", {"reason": REASON})
    assert response.status_code == 400
    assert "Only a failed or cancelled run can be retried." in response.content.decode()
    assert EvaluationRun.objects.count() == 1


@pytest.mark.parametrize("what", ["cancel", "retry"])
def test_a_reason_too_short_is_refused_with_400(moderator: User, what: str) -> None:
    run = queued_run() if what == "cancel" else failed_run()
    response = signed_in(moderator).post(f"/moderation/runs/{run.id}/{what}/", {"reason": "no"})
    assert response.status_code == 400
    assert "Give the reason in a sentence" in response.content.decode()
    assert not RunAction.objects.exists()


@pytest.mark.parametrize("what", ["cancel", "retry"])
def test_it_refuses_a_non_moderator_with_403(what: str) -> None:
    run = queued_run() if what == "cancel" else failed_run()
    response = signed_in(person("otto")).post(
        f"/moderation/runs/{run.id}/{what}/", {"reason": REASON}
    )
    assert response.status_code == 403
    assert "Only moderators can do this." in response.content.decode()
    assert EvaluationRun.objects.count() == 1 and not RunAction.objects.exists()
    run.refresh_from_db()
    assert run.state in (RunState.QUEUED, RunState.FAILED)


@pytest.mark.parametrize("what", ["cancel", "retry"])
def test_a_visitor_is_sent_to_sign_in_and_nothing_changes(what: str) -> None:
    run = queued_run() if what == "cancel" else failed_run()
    response = Client().post(f"/moderation/runs/{run.id}/{what}/", {"reason": REASON})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not RunAction.objects.exists()


def test_a_cancel_without_the_csrf_token_is_refused(moderator: User) -> None:
    run = queued_run()
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    response = client.post(f"/moderation/runs/{run.id}/cancel/", {"reason": REASON})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.state == RunState.QUEUED


def test_a_get_is_not_allowed(moderator: User) -> None:
    run = queued_run()
    assert signed_in(moderator).get(f"/moderation/runs/{run.id}/cancel/").status_code == 405
