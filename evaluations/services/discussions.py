"""The discussion under a flag: who may post what, and locking it.

Anyone signed in may comment. The role shown with a comment is decided here, never taken
from the form: the repo's author (their comment is the author's reply), a moderator, or a
signed-in user. Only moderators may write internal notes, which nobody else ever sees, and
only moderators may post in a locked discussion. Comments are rendered to safe HTML once,
here, and stored with their Markdown; nothing is edited or deleted afterwards.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from evaluations.markup import MAX_BODY, MalformedText, check_text, markdown_to_safe_html
from evaluations.models import Comment, Flag, FlagAction
from evaluations.services import authors
from evaluations.services.moderation import User, clean_reason, is_moderator, require_moderator

LOCK_STATES = {True: "locked", False: "open"}


def comment_role(*, user: User, flag: Flag) -> str:
    if authors.is_repo_author(user, flag.repo):
        return Comment.Role.AUTHOR
    if is_moderator(user):
        return Comment.Role.MODERATOR
    return Comment.Role.USER


def discussion_lock(flag: Flag) -> FlagAction | None:
    """The lock in force (the latest lock, unless an unlock came after it), or None."""
    last = (
        flag.actions.filter(action__in=[FlagAction.Action.LOCK, FlagAction.Action.UNLOCK])
        .order_by("-created_at", "-id")
        .first()
    )
    return last if last is not None and last.action == FlagAction.Action.LOCK else None


def _clean_body(body: str) -> str:
    try:
        body = check_text(body or "").strip()
    except MalformedText as error:
        raise ValidationError(str(error), code="malformed") from error
    if not body:
        raise ValidationError("Write something before posting.", code="empty")
    if len(body) > MAX_BODY:
        raise ValidationError(
            f"Keep a comment under {MAX_BODY:,} characters (this one has {len(body):,}).",
            code="too_long",
        )
    return body


def comment_post(*, flag_id: int, user: User, body: str, internal: bool = False) -> Comment:
    """Post a comment (or, for a moderator, an internal note) under the flag."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to join the discussion.")
    moderator = is_moderator(user)
    if internal and not moderator:
        raise PermissionDenied("Only moderators can write internal notes.")
    body = _clean_body(body)
    with transaction.atomic():
        # The flag row is the thread's lock: a comment cannot slip in beside a lock.
        flag = (
            Flag.objects.select_for_update(of=("self",))
            .select_related("claim__repo")
            .get(id=flag_id)
        )
        lock = discussion_lock(flag)
        if lock is not None and not moderator:
            raise PermissionDenied(f"The discussion is locked by a moderator: {lock.reason}")
        role = Comment.Role.MODERATOR if internal else comment_role(user=user, flag=flag)
        return Comment.objects.create(
            flag=flag,
            user_name=user.get_username(),
            role=role,
            internal=internal,
            body=body,
            body_html=markdown_to_safe_html(body),
        )


def discussion_lock_set(*, flag_id: int, user: User, locked: bool, reason: str) -> FlagAction:
    """Lock the discussion (only moderators may post) or open it again, with a reason."""
    actor = require_moderator(user)
    reason = clean_reason(reason)
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(id=flag_id)
        before = discussion_lock(flag) is not None
        if before == locked:
            raise ValidationError(
                "The discussion is already locked." if locked else "The discussion is not locked."
            )
        return FlagAction.objects.create(
            flag=flag,
            action=FlagAction.Action.LOCK if locked else FlagAction.Action.UNLOCK,
            reason=reason,
            actor=actor,
            state_before=LOCK_STATES[before],
            state_after=LOCK_STATES[locked],
        )
