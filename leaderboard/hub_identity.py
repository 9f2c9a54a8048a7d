"""What the hub says about a signed-in user: their account name and organisations.

On a Hugging Face sign-in, allauth has just fetched the provider's userinfo (which lists the
user's organisations); ``record_sign_in`` keeps it. Before a user acts as an author, a stale
answer is asked again from the same userinfo endpoint with the token the hub issued
(``refresh_if_stale``; ``HubUserinfo`` offers it to the domain as its
``HubMembershipSource``). The answers are recorded through ``evaluations.services.authors``.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from allauth.socialaccount.models import SocialLogin, SocialToken
from django.conf import settings
from django.http import HttpRequest

from evaluations.models import HubMembership
from evaluations.services import authors
from evaluations.services.permissions import Account, User

PROVIDER_ID = "huggingface"
TIMEOUT_SECONDS = 10
log = logging.getLogger(__name__)


def _names(userinfo: dict[str, Any]) -> tuple[str, list[str]]:
    orgs = userinfo.get("orgs") or []
    names = [
        org.get("preferred_username") or org.get("name") or ""
        for org in orgs
        if isinstance(org, dict)
    ]
    return str(userinfo.get("preferred_username") or ""), [name for name in names if name]


def record_sign_in(request: HttpRequest, user: Account, **kwargs: Any) -> None:
    """allauth's ``user_logged_in`` signal: keep what the hub's userinfo said."""
    sociallogin: SocialLogin | None = kwargs.get("sociallogin")
    if sociallogin is None or sociallogin.account.provider != PROVIDER_ID:
        return
    data = sociallogin.account.extra_data or {}
    username, orgs = _names(data.get("userinfo") or data.get("id_token") or data)
    if username:
        authors.hub_membership_record(
            user=user, hub_username=username, orgs=orgs, source=HubMembership.Source.SIGN_IN
        )


def refresh_if_stale(user: User) -> None:
    """Ask the hub again when the last answer about ``user`` is too old to act on."""
    if not user.is_authenticated:
        return
    if not authors.hub_membership_is_stale(authors.hub_membership_current(user)):
        return
    token = (
        SocialToken.objects.filter(account__user=user, account__provider=PROVIDER_ID)
        .order_by("-id")
        .first()
    )
    if token is None:
        return  # an e-mail account: the hub knows nothing of it
    try:
        userinfo = _userinfo(token.token)
    except requests.HTTPError as error:
        if error.response is not None and error.response.status_code in (401, 403):
            authors.hub_membership_record(
                user=user,
                hub_username=authors.hub_name(user),
                orgs=[],
                source=HubMembership.Source.EXPIRED,
            )
            return
        log.warning("hub userinfo failed for user %s: %s", user.pk, error)
        return
    except (requests.RequestException, ValueError) as error:
        log.warning("hub userinfo unreachable for user %s: %s", user.pk, error)
        return
    username, orgs = _names(userinfo)
    authors.hub_membership_record(
        user=user,
        hub_username=username or authors.hub_name(user),
        orgs=orgs,
        source=HubMembership.Source.RECHECK,
    )


class HubUserinfo:
    """The site's ``authors.HubMembershipSource`` (settings: ``AUTHOR_HUB_MEMBERSHIP_SOURCE``):
    the hub's userinfo, asked with the token it issued at sign-in."""

    def refresh(self, user: User) -> None:
        refresh_if_stale(user)


def _userinfo(access_token: str) -> dict[str, Any]:
    server = settings.HF_OAUTH_SERVER_URL.rstrip("/")
    configuration = requests.get(
        f"{server}/.well-known/openid-configuration", timeout=TIMEOUT_SECONDS
    )
    configuration.raise_for_status()
    answer = requests.get(
        configuration.json()["userinfo_endpoint"],
        timeout=TIMEOUT_SECONDS,
        headers={"Authorization": f"Bearer {access_token}"},
    )
    answer.raise_for_status()
    userinfo = answer.json()
    if not isinstance(userinfo, dict):
        raise ValueError("the hub's userinfo is not a JSON object")
    return userinfo
