"""Who may moderate, and what every decision leaves on the public record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.test import Client

from evaluations import selectors, services
from evaluations.models import Flag, FlagEvent, RepoDecision
from evaluations.services import moderation
from tests.factories import finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "The measurement was reproduced twice; the claim does not hold."


@pytest.fixture
def flag() -> Flag:
    finished_run("demo-org/tiny", value=0.5)
    services.claims_record(repo_id="demo-org/tiny", source="submission", claims=[
        services.ClaimInput(benchmark="smoke_arc", value=95.0, unit="percent", shots=0)])
    return Flag.objects.get()


@pytest.fixture
def moderator() -> User:
    user = User.objects.create_user("mona", password="pw-mona-123")
    user.groups.add(Group.objects.get(name="moderators"))
    return user


@pytest.fixture
def outsider() -> User:
    return User.objects.create_user("otto", password="pw-otto-123")


def signed_in(user: User, **kwargs: object) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_a_visitor_is_sent_to_sign_in(client: Client, flag: Flag) -> None:
    response = client.get("/moderation/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_signed_in_non_moderator_gets_403(outsider: User, flag: Flag) -> None:
    client = signed_in(outsider)
    assert client.get("/moderation/").status_code == 403
    assert client.get("/moderation/log/").status_code == 403
    response = client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss",
                                                              "reason": REASON})
    assert response.status_code == 403
    assert not FlagEvent.objects.exclude(actor="").exists()


def test_the_service_refuses_non_moderators_whatever_the_caller(outsider: User,
                                                                flag: Flag) -> None:
    with pytest.raises(PermissionDenied):
        moderation.flag_moderate(flag_id=flag.id, user=outsider, action="confirm",
                                 reason=REASON)


def test_a_moderator_sees_the_queue_with_the_evidence(moderator: User, flag: Flag) -> None:
    page = signed_in(moderator).get("/moderation/?sort=q").content.decode()
    assert f"Flag #{flag.id}" in page and "Claimed 95.0, measured 50.0" in page


def test_dismissing_needs_a_reason_and_is_public(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator)
    client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss", "reason": "no"})
    assert not FlagEvent.objects.exclude(actor="").exists()
    client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss", "reason": REASON})
    decision = FlagEvent.objects.get(actor="mona")
    assert decision.state == "dismissed" and decision.reason == REASON
    assert flag.claim.repo_id not in selectors.flagged_repo_ids()
    assert selectors.moderation_queue() == []
    public = Client().get(f"/flags/{flag.id}/").content.decode()
    assert "Dismissed by a moderator" in public and REASON in public and "outranks" in public


def test_a_dismissed_flag_is_not_reopened_by_the_rule(moderator: User, flag: Flag) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    services.flags_recompute(repo_id=flag.claim.repo_id)
    assert [e.state for e in flag.events.order_by("id")] == ["opened", "dismissed"]


def test_hiding_a_model_takes_it_out_of_the_rankings_and_is_logged(moderator: User,
                                                                  flag: Flag) -> None:
    client = signed_in(moderator)
    client.post("/moderation/models/demo-org/tiny/visibility/", {"hidden": "on",
                                                                 "reason": REASON})
    ranking = Client().get("/?suite=smoke").content.decode().split("Recent runs")[0]
    assert 'href="/models/demo-org/tiny/"' not in ranking
    client.post("/moderation/models/demo-org/tiny/visibility/", {"reason": REASON})
    assert [d.action for d in RepoDecision.objects.order_by("id")] == ["hide", "unhide"]
    log = client.get("/moderation/log/").content.decode()
    assert log.count(REASON) == 2
    assert client.get("/moderation/log/?action=bogus").status_code == 400


def test_a_form_without_its_csrf_token_is_refused(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator, enforce_csrf_checks=True)
    response = client.post(f"/moderation/flags/{flag.id}/", {"action": "confirm",
                                                              "reason": REASON})
    assert response.status_code == 403
    assert not FlagEvent.objects.exclude(actor="").exists()


def test_moderators_sign_in_with_a_password(moderator: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": "mona", "password": "x"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"login": "mona", "password": "pw-mona-123",
                                                "next": "/moderation/"})
    assert response.status_code == 302 and response["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200
