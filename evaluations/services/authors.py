"""Who is a repo's author, and where to write to them.

Placeholder, replaced by the accounts work: nobody is an author yet and no author has an
address, so author replies and author e-mails wait for sign-in through Hugging Face.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from evaluations.models import ModelRepo


def is_repo_author(user: AbstractBaseUser | AnonymousUser, repo: ModelRepo) -> bool:
    """placeholder, replaced by the accounts work"""
    return False


def repo_author_emails(repo: ModelRepo) -> list[str]:
    """placeholder, replaced by the accounts work"""
    return []
