"""Signing in with Hugging Face: django-allauth's real OpenID Connect code against the
stand-in hub's provider on 127.0.0.1, and what the site learns about the user's
organisations — at sign-in, and again when that answer grows stale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from evaluations.models import HubMembership
from evaluations.services import authors
from leaderboard import hub_identity
from localdev.standin.hub_server import serve_in_thread
from localdev.standin.oidc import add_oauth_client
from localdev.standin.repos import add_user

pytestmark = [pytest.mark.django_db]
CALLBACK = "http://testserver/accounts/oidc/huggingface/login/callback/"


@pytest.fixture
def provider(tmp_path: Path, settings) -> Iterator[tuple[Path, str]]:
    """The stand-in hub with Ada (a member of demo-org) and this site as an OAuth client."""
    add_user(
        tmp_path, "hf_ada_token", "ada", ("demo-org",), password="ada-pw", email="ada@example.org"
    )
    add_oauth_client(tmp_path, "site-client", "site-secret", [CALLBACK])
    server, url = serve_in_thread(tmp_path)
    settings.HF_OAUTH_SERVER_URL = url
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "huggingface",
                    "name": "Hugging Face",
                    "client_id": "site-client",
                    "secret": "site-secret",
                    "settings": {"server_url": url},
                }
            ],
        }
    }
    yield tmp_path, url
    server.shutdown()
    server.server_close()


def sign_in(client: Client, username: str, password: str) -> requests.Response:
    """What a browser does: start at the site, sign in on the hub, come back with a code."""
    start = client.post("/accounts/oidc/huggingface/login/")
    assert start.status_code == 302, start.content[:500]
    answer = requests.post(
        start["Location"],
        data={"username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code == 302:
        back = urlsplit(answer.headers["Location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
        finish = client.get(f"{back.path}?{back.query}")
        assert finish.status_code == 302, finish.content[:2000]
    return answer


def test_it_signs_an_author_in_with_hugging_face(client: Client, provider) -> None:
    sign_in(client, "ada", "ada-pw")
    user = User.objects.get(id=client.session["_auth_user_id"])
    assert user.username == "ada" and user.email == "ada@example.org"
    membership = authors.hub_membership_current(user)
    assert membership.hub_username == "ada" and membership.orgs == ["demo-org"]
    assert membership.source == HubMembership.Source.SIGN_IN
    assert authors.is_repo_author(user, "demo-org/tiny")
    assert authors.is_repo_author(user, "ada/own-model")
    assert not authors.is_repo_author(user, "other-lab/tiny")
    page = client.get("/account/").content.decode()
    assert "Hub account <strong>ada</strong>" in page and "demo-org" in page


def signed_in_ada(client: Client) -> User:
    """Ada, signed in through the stand-in hub as a member of demo-org."""
    sign_in(client, "ada", "ada-pw")
    return User.objects.get(username="ada")


def ada_moves_to_other_lab(provider) -> None:
    """The hub now says Ada belongs to other-lab only (the site learns it when it asks)."""
    root, _ = provider
    add_user(root, "hf_ada_token", "ada", ("other-lab",), password="ada-pw")


def test_a_wrong_password_signs_nobody_in(client: Client, provider) -> None:
    answer = sign_in(client, "ada", "not-her-password")
    assert answer.status_code == 401 and "Wrong username or password" in answer.text
    assert "_auth_user_id" not in client.session and not User.objects.exists()


def test_a_stale_answer_is_asked_again_and_a_left_org_loses_authorship(
    client: Client, provider, settings
) -> None:
    user = signed_in_ada(client)
    ada_moves_to_other_lab(provider)
    hub_identity.refresh_if_stale(user)
    assert authors.is_repo_author(user, "demo-org/tiny"), "still fresh: not asked again"
    settings.AUTHOR_RECHECK_AFTER = 0
    hub_identity.refresh_if_stale(user)
    latest = authors.hub_membership_current(user)
    assert latest.source == HubMembership.Source.RECHECK and latest.orgs == ["other-lab"]
    assert user.hub_memberships.count() == 2, "the earlier answer stays on the record"
    assert not authors.is_repo_author(user, "demo-org/tiny")
    assert authors.is_repo_author(user, "other-lab/tiny")


def test_a_token_the_hub_no_longer_accepts_ends_authorship(
    client: Client, provider, settings
) -> None:
    root, _ = provider
    sign_in(client, "ada", "ada-pw")
    user = User.objects.get(username="ada")
    (root / "users.json").write_text("{}")  # the hub forgot the token (expired, revoked)
    settings.AUTHOR_RECHECK_AFTER = 0
    hub_identity.refresh_if_stale(user)
    assert authors.hub_membership_current(user).source == HubMembership.Source.EXPIRED
    assert not authors.is_repo_author(user, "demo-org/tiny")
    assert "Sign in with Hugging Face again" in client.get("/account/").content.decode()


def test_an_unreachable_hub_keeps_the_last_answer(client: Client, provider, settings) -> None:
    sign_in(client, "ada", "ada-pw")
    user = User.objects.get(username="ada")
    settings.AUTHOR_RECHECK_AFTER = 0
    settings.HF_OAUTH_SERVER_URL = "http://127.0.0.1:9"  # nothing listens there
    hub_identity.refresh_if_stale(user)
    assert user.hub_memberships.count() == 1 and authors.is_repo_author(user, "demo-org/tiny")


def test_a_userinfo_that_is_not_an_object_keeps_the_last_answer(
    client: Client, provider, settings, monkeypatch
) -> None:
    user = signed_in_ada(client)
    settings.AUTHOR_RECHECK_AFTER = 0
    real_get = requests.get

    def get(url: str, **kwargs) -> requests.Response:
        answer = real_get(url, **kwargs)
        if "openid-configuration" not in url:
            answer._content = b'["ada", "demo-org"]'  # JSON, but not the userinfo object
        return answer

    monkeypatch.setattr(hub_identity.requests, "get", get)
    hub_identity.refresh_if_stale(user)
    assert user.hub_memberships.count() == 1 and authors.is_repo_author(user, "demo-org/tiny")


def api_token(user: User) -> str:
    from evaluations.services import tokens

    return tokens.api_token_create(user=user, name="release CI")[1]


def post_author_claim(token: str):
    claim = {"benchmark": "smoke_arc", "value": 80.0, "unit": "percent", "shots": 0}
    return Client().post(
        "/api/v1/claims",
        {"repo_id": "demo-org/tiny", "claims": [claim]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.usefixtures("no_broker")
def test_it_asks_the_hub_again_before_an_api_author_claim(
    client: Client, provider, settings
) -> None:
    user = signed_in_ada(client)
    token = api_token(user)
    ada_moves_to_other_lab(provider)
    settings.AUTHOR_RECHECK_AFTER = 0
    answer = post_author_claim(token)
    assert answer.status_code == 403 and "Only authors of demo-org" in answer.json()["detail"]
    assert authors.hub_membership_current(user).source == HubMembership.Source.RECHECK


@pytest.mark.usefixtures("no_broker")
def test_it_asks_the_hub_again_before_a_reply_as_the_author(
    client: Client, provider, settings, flag
) -> None:
    from evaluations.models import Comment
    from evaluations.services import discussions

    user = signed_in_ada(client)
    assert discussions.comment_role(user=user, flag=flag) == Comment.Role.AUTHOR
    ada_moves_to_other_lab(provider)
    settings.AUTHOR_RECHECK_AFTER = 0
    comment = discussions.comment_post(flag_id=flag.id, user=user, body="We re-ran it.")
    assert comment.role == Comment.Role.USER


@pytest.mark.usefixtures("no_broker")
def test_an_unreachable_hub_keeps_the_last_answer_only_for_a_while(
    client: Client, provider, settings
) -> None:
    sign_in(client, "ada", "ada-pw")
    user = User.objects.get(username="ada")
    token = api_token(user)
    settings.HF_OAUTH_SERVER_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.AUTHOR_RECHECK_AFTER, settings.AUTHOR_HUB_OUTAGE_GRACE = 0, 3600
    assert authors.is_repo_author(user, "demo-org/tiny"), "within the grace: the last answer"
    settings.AUTHOR_HUB_OUTAGE_GRACE = 0
    answer = post_author_claim(token)
    assert (
        answer.status_code == 403 and "sign in with Hugging Face again" in answer.json()["detail"]
    )
    assert user.hub_memberships.count() == 1, "nothing new was learnt from the hub"


def test_the_domain_asks_the_hub_through_the_sites_userinfo() -> None:
    assert isinstance(authors.hub_membership_source(), hub_identity.HubUserinfo)
