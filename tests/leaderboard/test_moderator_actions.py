"""Every moderator action answers the same way, from the flag page or the model page:
403 for a non-moderator, 400 with the message on the page it came from for a refused
reason, and a redirect with a message once recorded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from evaluations.models import Flag, FlagAction, FlagEvent, RepoDecision
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "The measurement was reproduced twice; the claim does not hold."


@dataclass(frozen=True)
class Action:
    name: str
    url: str  # {flag} stands for the flag's id
    fields: dict[str, str]  # what the form sends besides the reason
    page: str  # what the page the form is on shows
    done: str


ACTIONS = [
    Action("decide", "/moderation/flags/{flag}/", {"action": "dismiss"}, "Flag #", "Decision"),
    Action(
        "visibility",
        "/moderation/models/demo-org/tiny/visibility/",
        {"hidden": "on"},
        "Evidence as CSV",
        "Decision recorded.",
    ),
    Action("lock", "/moderation/flags/{flag}/lock/", {"locked": "on"}, "Flag #", ": recorded."),
    Action("rerun", "/moderation/flags/{flag}/rerun/", {}, "Flag #", ": recorded."),
]


def post(user: User, flag: Flag, form: Action, **fields: str) -> tuple[Client, HttpResponse]:
    """Post the action's form as ``user``, with ``fields`` added (or in place of its own)."""
    client = Client()
    client.force_login(user)
    return client, client.post(form.url.format(flag=flag.id), {**form.fields, **fields})


def recorded() -> int:
    """Decisions, visibility changes and moderator actions on the record."""
    decisions = FlagEvent.objects.exclude(actor="").count()
    return decisions + RepoDecision.objects.count() + FlagAction.objects.count()


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_it_refuses_a_non_moderator_with_403(flag: Flag, action: Action) -> None:
    _, response = post(person("otto"), flag, action, reason=REASON)
    assert response.status_code == 403
    assert "Only moderators can do this." in response.content.decode()
    assert recorded() == 0


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_it_shows_the_page_again_with_400_for_a_reason_too_short(
    flag: Flag, moderator: User, action: Action
) -> None:
    _, response = post(moderator, flag, action, reason="no")
    page = response.content.decode()
    assert response.status_code == 400 and action.page in page
    assert "Give the reason in a sentence" in page
    assert recorded() == 0


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_it_shows_the_page_again_with_400_for_a_missing_reason(
    flag: Flag, moderator: User, action: Action
) -> None:
    _, response = post(moderator, flag, action)
    page = response.content.decode()
    assert response.status_code == 400 and action.page in page
    assert "Give a reason." in page
    assert recorded() == 0


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_it_redirects_to_the_page_with_a_message_once_recorded(
    flag: Flag, moderator: User, action: Action
) -> None:
    client, response = post(moderator, flag, action, reason=REASON)
    assert response.status_code == 302 and recorded() == 1
    page = client.get(response["Location"]).content.decode()
    assert action.page in page and action.done in page


def test_it_names_the_choice_when_a_decision_has_no_known_action(
    flag: Flag, moderator: User
) -> None:
    _, response = post(moderator, flag, ACTIONS[0], action="delete", reason=REASON)
    assert response.status_code == 400
    assert "Choose an action: confirm, dismiss or ask the author." in response.content.decode()
