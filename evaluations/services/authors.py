"""Who is the author of a repo: a signed-in user whose hub account owns it, or belongs to the
organisation that owns it.

The hub says which organisations an account belongs to when its owner signs in with Hugging
Face; the web layer records each answer here (``hub_membership_record``) and asks again when
the last one is older than ``AUTHOR_RECHECK_AFTER``. The answers are kept, never edited, so
the record shows what the site knew when it let someone act as an author.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from evaluations.account_models import HubMembership
from evaluations.models import ModelRepo

User = AbstractBaseUser | AnonymousUser


def hub_membership_record(
    *, user: AbstractBaseUser, hub_username: str, orgs: list[str], source: str
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
    """True when the hub last said this user owns ``repo`` or belongs to its organisation."""
    return membership_owns(hub_membership_current(user), repo)


def require_repo_author(user: User, repo: ModelRepo | str) -> None:
    if not is_repo_author(user, repo):
        owner = repo_owner(repo)
        raise PermissionDenied(
            f"Only authors of {owner} can do this: sign in with a Hugging Face account that "
            f"is {owner} or a member of it."
        )


def hub_name(user: User) -> str:
    """How the site names a user on claims and comments: the hub account if known."""
    membership = hub_membership_current(user)
    return membership.hub_username if membership else user.get_username()


def repo_author_emails(repo: ModelRepo) -> list[str]:
    """Addresses of the users the hub last said are authors of ``repo``."""
    owner = repo_owner(repo)
    candidate_ids = set(
        HubMembership.objects.filter(hub_username__iexact=owner).values_list("user_id", flat=True)
    ) | set(
        HubMembership.objects.filter(orgs__icontains=f'"{owner}"').values_list(
            "user_id", flat=True
        )
    )
    users = get_user_model().objects.filter(id__in=candidate_ids, is_active=True)
    return sorted(
        user.email for user in users if user.email and is_repo_author(user, repo)
    )
