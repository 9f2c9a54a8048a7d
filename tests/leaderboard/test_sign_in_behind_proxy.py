"""Behind a proxy, sign-in limits count each visitor's address, not the proxy's."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import person

pytestmark = pytest.mark.django_db


def attempt(client: Client, visitor: str) -> int:
    response = client.post(
        "/accounts/login/",
        {"login": "mona", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=visitor,
    )
    return response.status_code


def test_one_visitor_over_the_limit_does_not_lock_out_the_others(client: Client, settings) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip", "login_failed": False}
    person("mona")
    assert [attempt(client, "203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert attempt(client, "198.51.100.9") == 200


def test_without_a_trusted_proxy_the_header_is_ignored(client: Client, settings) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip", "login_failed": False}
    person("mona")
    # A forged X-Forwarded-For cannot buy a fresh bucket for each attempt.
    assert [attempt(client, f"203.0.113.{n}") for n in range(3)] == [200, 200, 429]
