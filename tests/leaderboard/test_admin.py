"""The admin lists every row, never edits measurements, and acts through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.db import models
from django.test import Client, RequestFactory

from evaluations import dispatch, services
from evaluations.models import (
    Claim,
    Comment,
    EvaluationRun,
    Flag,
    FlagAction,
    FlagEvent,
    HubMembership,
    ModelRepo,
    RepoDecision,
    RunAction,
    RunArtifact,
    RunState,
    Score,
)
from tests.factories import finished_run, person, queued_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def admin_client(client: Client, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.mark.parametrize(
    "model",
    [
        "modelrepo",
        "revision",
        "submission",
        "evaluationrun",
        "score",
        "runartifact",
        "claim",
        "flag",
        "flagevent",
        "runaction",
    ],
)
def test_every_model_has_an_admin_list(admin_client: Client, model: str) -> None:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)],
    )
    assert admin_client.get(f"/admin/evaluations/{model}/").status_code == 200


def test_a_score_cannot_be_edited_or_deleted(admin_client: Client) -> None:
    score = finished_run().scores.first()
    page = admin_client.get(f"/admin/evaluations/score/{score.id}/change/")
    assert page.status_code == 200 and b'name="value"' not in page.content
    assert admin_client.post(f"/admin/evaluations/score/{score.id}/delete/").status_code == 403


# The rows the database refuses to change (migration 0011), and the repos they hang from.
NEVER_DELETED_IN_ADMIN = [
    Score,
    RunArtifact,
    Claim,
    Flag,
    FlagEvent,
    FlagAction,
    RunAction,
    Comment,
    ModelRepo,
]
NOT_IN_ADMIN = [RepoDecision, HubMembership]


@pytest.mark.parametrize("model", NEVER_DELETED_IN_ADMIN, ids=lambda model: model.__name__)
def test_it_offers_no_way_to_change_or_delete_rows_that_stay_on_the_record(
    model: type[models.Model],
) -> None:
    # Offering it would only lead an admin to the database's refusal, an error page.
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser("admin", "admin@example.org", "pw")
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_change_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.parametrize("model", NOT_IN_ADMIN, ids=lambda model: model.__name__)
def test_append_only_rows_outside_the_admin_stay_outside(model: type[models.Model]) -> None:
    # Registering one is fine, as a ReadOnlyAdmin: then move it to the list above.
    assert not admin.site.is_registered(model)


def test_deleting_a_user_the_hub_vouched_for_is_refused_with_a_page_not_an_error(
    admin_client: Client,
) -> None:
    ada = person("ada", hub="ada", orgs=("demo-org",))
    page = admin_client.post(f"/admin/auth/user/{ada.id}/delete/", {"post": "yes"})
    assert page.status_code == 200 and b"protected related objects" in page.content
    assert User.objects.filter(id=ada.id).exists() and HubMembership.objects.filter(user=ada)


REASON = "Submitted by mistake, says the author."


def run_action(client: Client, action: str, run: EvaluationRun, reason: str = REASON):
    return client.post(
        "/admin/evaluations/evaluationrun/",
        {"action": action, "_selected_action": [run.id], "reason": reason},
        follow=True,
    )


def test_the_cancel_action_goes_through_the_service_on_the_record(admin_client: Client) -> None:
    run = queued_run()
    run_action(admin_client, "cancel_runs", run)
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    action = RunAction.objects.get()
    assert (action.run, action.action, action.actor, action.reason, action.state_before) == (
        run,
        RunAction.Action.CANCEL,
        "admin",
        REASON,
        RunState.QUEUED,
    )
    log = admin_client.get("/moderation/log/?action=cancel-run").content.decode()
    assert "Run cancelled" in log and REASON in log and f"run #{run.id}" in log


def test_a_retry_names_who_asked_and_the_new_run(admin_client: Client) -> None:
    run = queued_run()
    services.run_cancel(run_id=run.id, user=User.objects.get(username="admin"), reason=REASON)
    run_action(admin_client, "retry_runs", run, reason="The author fixed the config.")
    retry = RunAction.objects.get(action=RunAction.Action.RETRY)
    assert retry.run == run and retry.new_run.state == RunState.QUEUED
    assert retry.actor == "admin" and retry.state_before == RunState.CANCELLED


def test_a_cancel_without_a_reason_is_refused(admin_client: Client) -> None:
    run = queued_run()
    page = run_action(admin_client, "cancel_runs", run, reason="").content.decode()
    run.refresh_from_db()
    assert run.state == RunState.QUEUED and "Give the reason" in page
    assert not RunAction.objects.exists()


def test_staff_who_may_only_look_cannot_cancel_runs(client: Client) -> None:
    viewer = User.objects.create_user("vic", password="pw-vic-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_evaluationrun"))
    client.force_login(viewer)
    run = queued_run()
    assert client.get("/admin/evaluations/evaluationrun/").status_code == 200
    run_action(client, "cancel_runs", run)
    run.refresh_from_db()
    assert run.state == RunState.QUEUED and not RunAction.objects.exists()


def test_the_service_refuses_a_cancel_by_a_non_moderator() -> None:
    run = queued_run()
    with pytest.raises(PermissionDenied):
        services.run_cancel(run_id=run.id, user=person("sam"), reason=REASON)
    run.refresh_from_db()
    assert run.state == RunState.QUEUED


def test_it_rate_limits_wrong_passwords_at_the_admin_sign_in(client: Client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login": "4/m/ip", "login_failed": "10/m/ip,10/5m/key"}
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    answer = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "x"})
    assert answer.status_code == 302, "the admin form checks no password itself"
    sign_in_url = answer["Location"]
    assert sign_in_url.startswith("/accounts/login/")
    statuses = [
        client.post(sign_in_url, {"login": "root", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 4 + [429]
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_through_the_site_and_reach_the_admin(client: Client) -> None:
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    redirects = client.get("/admin/", follow=True).redirect_chain
    sign_in_url = redirects[-1][0]
    assert sign_in_url.startswith("/accounts/login/")
    signed_in = client.post(sign_in_url, {"login": "root", "password": "pw-root-123"}, follow=True)
    assert signed_in.status_code == 200 and signed_in.request["PATH_INFO"] == "/admin/"
