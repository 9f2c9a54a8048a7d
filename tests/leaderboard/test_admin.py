"""The admin lists every row, never edits measurements, and acts through services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations import dispatch, services
from evaluations.models import RunState
from tests.factories import finished_run, queued_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.mark.parametrize("model", ["modelrepo", "revision", "submission", "evaluationrun",
                                   "score", "runartifact", "claim", "flag", "flagevent"])
def test_every_model_has_an_admin_list(admin_client: Client, model: str) -> None:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(repo_id="demo-org/tiny", source="submission", claims=[
        services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)])
    assert admin_client.get(f"/admin/evaluations/{model}/").status_code == 200


def test_a_score_cannot_be_edited_or_deleted(admin_client: Client) -> None:
    score = finished_run().scores.first()
    page = admin_client.get(f"/admin/evaluations/score/{score.id}/change/")
    assert page.status_code == 200 and b'name="value"' not in page.content
    assert admin_client.post(f"/admin/evaluations/score/{score.id}/delete/").status_code == 403


def test_the_cancel_action_goes_through_the_service(admin_client: Client) -> None:
    run = queued_run()
    admin_client.post("/admin/evaluations/evaluationrun/",
                      {"action": "cancel_runs", "_selected_action": [run.id]})
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED


def test_it_rate_limits_wrong_passwords_at_the_admin_sign_in(client: Client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login": "4/m/ip", "login_failed": "10/m/ip,10/5m/key"}
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    answer = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "x"})
    assert answer.status_code == 302, "the admin form checks no password itself"
    sign_in_url = answer["Location"]
    assert sign_in_url.startswith("/accounts/login/")
    statuses = [client.post(sign_in_url, {"login": "root", "password": "wrong"}).status_code
                for _ in range(5)]
    assert statuses == [200] * 4 + [429]
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_through_the_site_and_reach_the_admin(client: Client) -> None:
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    redirects = client.get("/admin/", follow=True).redirect_chain
    sign_in_url = redirects[-1][0]
    assert sign_in_url.startswith("/accounts/login/")
    signed_in = client.post(sign_in_url, {"login": "root", "password": "pw-root-123"},
                            follow=True)
    assert signed_in.status_code == 200 and signed_in.request["PATH_INFO"] == "/admin/"
