"""Who is the author of a repo: a signed-in user whose hub account owns it, or belongs to the
organisation that owns it.

The hub says which organisations an account belongs to when its owner signs in with Hugging
Face; the web layer records each answer here (``hub_membership_record``). Every authorship
check (``is_repo_author``), whatever page, API or discussion it comes from, asks the hub again
when the last answer is older than ``AUTHOR_RECHECK_AFTER``, so someone who left an
organisation loses its author powers on their next action. The hub is asked through a
``HubMembershipSource``, the port settings name by dotted path
(``AUTHOR_HUB_MEMBERSHIP_SOURCE``): the site provides it, and this package never imports
``leaderboard``. The answers are kept, never edited, so the record shows what the site knew
when it let someone act as an author.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.module_loading import import_string

from evaluations.models import HubMembership, ModelRepo
from evaluations.services.permissions import Account, User

LOCAL_ACCOUNT_MARK = "(local account)"  # after the name of a user the hub never vouched for


class HubMembershipSource(Protocol):
    """What asks the hub again about a user whose last answer is stale."""

    def refresh(self, user: User) -> None:
        """Ask the hub now and keep its answer (``hub_membership_record``); when the hub
        cannot answer, record nothing: the stale answer then stands for its grace."""


def hub_membership_source() -> HubMembershipSource | None:
    """The source ``AUTHOR_HUB_MEMBERSHIP_SOURCE`` names (a class, made once), if any."""
    path = settings.AUTHOR_HUB_MEMBERSHIP_SOURCE
    return _source_at(path) if path else None


@cache
def _source_at(path: str) -> HubMembershipSource:
    source: HubMembershipSource = import_string(path)()
    return source


def hub_membership_record(
    *, user: Account, hub_username: str, orgs: list[str], source: str
) -> HubMembership:
    """Keep what the hub said about ``user``'s account just now."""
    names = sorted({str(org)[:100] for org in orgs if org})
    return HubMembership.objects.create(
        user=user, hub_username=hub_username[:100], orgs=names, source=source
    )


def hub_membership_current(user: User) -> HubMembership | None:
    """The latest thing the hub said about this user, if they ever signed in with it."""
    if not user.is_authenticated:
        return None
    return HubMembership.objects.filter(user=user).order_by("-checked_at", "-id").first()


def hub_membership_is_stale(membership: HubMembership | None) -> bool:
    if membership is None:
        return True
    age = timezone.now() - membership.checked_at
    return age > timedelta(seconds=settings.AUTHOR_RECHECK_AFTER)


def hub_membership_in_force(user: User) -> HubMembership | None:
    """The answer authorship is decided on: the hub is asked again when the last one is stale.

    When the hub cannot answer (down, or no stored token), the stale answer still stands for
    ``AUTHOR_HUB_OUTAGE_GRACE`` seconds past its re-check time, so a short outage does not
    lock every author out; after that it stands no more, so an outage cannot keep a removed
    member's powers alive indefinitely. Signing in with Hugging Face again records a fresh
    answer."""
    membership = hub_membership_current(user)
    if not hub_membership_is_stale(membership) or membership is None:
        return membership
    source = hub_membership_source()
    if source is not None:
        source.refresh(user)
        membership = hub_membership_current(user)
    if membership is None:
        return None
    age = timezone.now() - membership.checked_at
    limit = settings.AUTHOR_RECHECK_AFTER + settings.AUTHOR_HUB_OUTAGE_GRACE
    return membership if age <= timedelta(seconds=limit) else None


def repo_owner(repo: ModelRepo | str) -> str:
    hub_id = repo if isinstance(repo, str) else repo.hub_id
    return hub_id.split("/", 1)[0].lower()


def membership_owns(membership: HubMembership | None, repo: ModelRepo | str) -> bool:
    if membership is None or membership.source == HubMembership.Source.EXPIRED:
        return False
    owner = repo_owner(repo)
    return owner == membership.hub_username.lower() or owner in {
        org.lower() for org in membership.orgs
    }


def is_repo_author(user: User, repo: ModelRepo | str) -> bool:
    """True when the hub says (asked again if stale) this user owns ``repo`` or belongs to its
    organisation."""
    return membership_owns(hub_membership_in_force(user), repo)


def require_repo_author(user: User, repo: ModelRepo | str) -> None:
    membership = hub_membership_in_force(user)
    if not membership_owns(membership, repo):
        owner = repo_owner(repo)
        if membership is None and hub_membership_current(user) is not None:
            raise PermissionDenied(
                f"The hub has not confirmed lately that you are an author of {owner}: sign "
                "in with Hugging Face again."
            )
        raise PermissionDenied(
            f"Only authors of {owner} can do this: sign in with a Hugging Face account that "
            f"is {owner} or a member of it."
        )


def hub_name(user: User) -> str:
    """How the site names a user on claims: the hub account the hub vouched for (through the
    Hugging Face sign-in), else the local user name marked as local, so that a password
    account named like a hub organisation cannot pass for it ("reported by meta-llama")."""
    membership = hub_membership_current(user)
    if membership is not None:
        return membership.hub_username
    return f"{user.get_username()} {LOCAL_ACCOUNT_MARK}"


def repo_authors(repo: ModelRepo | str) -> list[Account]:
    """Active users the hub last said are authors of ``repo``.

    Reads the stored answers without asking the hub: this runs for many users at once (an
    e-mail to every author, an organisation's rate limit), where one hub call per candidate
    would be too slow, and a slightly stale answer costs little."""
    owner = repo_owner(repo)
    candidate_ids = set(
        HubMembership.objects.filter(hub_username__iexact=owner).values_list("user_id", flat=True)
    ) | set(
        HubMembership.objects.filter(orgs__icontains=f'"{owner}"').values_list("user_id", flat=True)
    )
    users = get_user_model().objects.filter(id__in=candidate_ids, is_active=True)
    return [user for user in users if membership_owns(hub_membership_current(user), repo)]


def repo_author_emails(repo: ModelRepo) -> list[str]:
    """Addresses of the users the hub last said are authors of ``repo``."""
    return sorted(user.email for user in repo_authors(repo) if user.email)
