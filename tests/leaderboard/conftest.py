"""Fixtures the moderation and discussion tests share."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from evaluations.models import Flag
from tests.factories import arc_claim, finished_run, person


@pytest.fixture
def flag() -> Flag:
    """demo-org/tiny measured 50 % on Smoke ARC (commit SHA_A) and claimed 95 %: flagged."""
    finished_run("demo-org/tiny", value=0.5)
    arc_claim("tiny", 95.0)
    return Flag.objects.get()


@pytest.fixture
def moderator() -> User:
    """Mona, in the moderators group (password pw-mona-123)."""
    return person("mona", moderator=True)
