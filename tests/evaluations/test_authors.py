"""Authorship asks the hub again through the port settings name, never through the site."""

from __future__ import annotations

import pytest

from evaluations.models import HubMembership
from evaluations.services import authors
from tests.factories import person

pytestmark = pytest.mark.django_db
SOURCE = "tests.evaluations.test_authors.LeftDemoOrgSource"


class LeftDemoOrgSource:
    """A hub that now says the user is in other-lab only."""

    asked: list[str] = []

    def refresh(self, user: authors.User) -> None:
        LeftDemoOrgSource.asked.append(user.get_username())
        authors.hub_membership_record(
            user=user, hub_username="ada", orgs=["other-lab"], source=HubMembership.Source.RECHECK
        )


def test_it_asks_the_named_source_when_the_answer_is_stale(settings) -> None:
    ada = person("ada", hub="ada", orgs=("demo-org",))
    settings.AUTHOR_HUB_MEMBERSHIP_SOURCE, settings.AUTHOR_RECHECK_AFTER = SOURCE, 0
    LeftDemoOrgSource.asked.clear()

    assert not authors.is_repo_author(ada, "demo-org/tiny")
    assert authors.is_repo_author(ada, "other-lab/tiny")
    assert LeftDemoOrgSource.asked == ["ada", "ada"]


def test_it_does_not_ask_while_the_answer_is_fresh(settings) -> None:
    ada = person("ada", hub="ada", orgs=("demo-org",))
    settings.AUTHOR_HUB_MEMBERSHIP_SOURCE = SOURCE
    LeftDemoOrgSource.asked.clear()

    assert authors.is_repo_author(ada, "demo-org/tiny")
    assert LeftDemoOrgSource.asked == []


def test_without_a_source_the_stale_answer_stands_for_its_grace(settings) -> None:
    ada = person("ada", hub="ada", orgs=("demo-org",))
    settings.AUTHOR_HUB_MEMBERSHIP_SOURCE = ""
    settings.AUTHOR_RECHECK_AFTER, settings.AUTHOR_HUB_OUTAGE_GRACE = 0, 3600

    assert authors.is_repo_author(ada, "demo-org/tiny")
    assert ada.hub_memberships.count() == 1
