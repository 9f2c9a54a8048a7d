"""A crash never ends a run: a lost worker's run is attempted again, every stage sends a
heartbeat, the evaluation child dies with its worker, and a worker's start sweeps the scratch
folders of runs that are no longer its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evaluations import services
from evaluations.models import EvaluationRun
from tests.factories import inspected_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _lose_worker(run: EvaluationRun) -> EvaluationRun:
    """The reaper finds the run's worker silent and queues the next attempt."""
    stale = timezone.now() - timedelta(hours=1)
    EvaluationRun.objects.filter(id=run.id).update(heartbeat_at=stale)
    assert services.runs_reap_stale() == [run.id]
    return run.actions.get().new_run


def test_the_run_page_shows_every_attempt_and_why_each_ended(client: Client) -> None:
    first = inspected_run()
    second = _lose_worker(first)
    html = client.get(f"/runs/{second.id}/").content.decode()
    attempts = html[html.index('id="attempts"') :]
    assert f'href="/runs/{first.id}/"' in attempts and f"Run #{second.id}</strong>" in attempts
    assert "eval:infra:worker-lost" in attempts and "presumed lost" in attempts
    assert f"Retried as run #{second.id} by (automatic)" in attempts


def test_a_run_never_retried_shows_no_attempts_list(client: Client) -> None:
    run = inspected_run()
    assert 'id="attempts"' not in client.get(f"/runs/{run.id}/").content.decode()
