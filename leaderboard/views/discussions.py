"""The public page of a flag with its discussion, and what is posted from it.

Who may post what, and who may lock a discussion or queue a re-run, is decided in
``evaluations.services``; these views turn a refusal into a 403 and bad input into a 400
that shows the page again with the message (and keeps what was typed). A lock or a re-run
answers as every moderator action does (``moderator_actions``).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from evaluations.evidence.matching import flag_review
from evaluations.models import Flag, FlagAction, FlagState
from evaluations.selectors import discussions as discussion_selectors
from evaluations.services import discussions, moderation
from leaderboard.forms import CommentForm, FlagDecisionForm, LockForm, ReasonForm
from leaderboard.views.moderator_actions import moderator_action


@require_GET
def flag_detail(request: HttpRequest, flag_id: int) -> HttpResponse:
    """Public: the claim, the numbers, every event with who and why, and the discussion."""
    return flag_page(request, _flag(flag_id))


def _flag(flag_id: int) -> Flag:
    return get_object_or_404(Flag.objects.select_related("claim__repo"), id=flag_id)


def flag_page(
    request: HttpRequest, flag: Flag, *, comment_form: CommentForm | None = None, status: int = 200
) -> HttpResponse:
    events = list(flag.events.select_related("run").order_by("created_at", "id"))
    decision = next(
        (e for e in reversed(events) if e.state in (FlagState.CONFIRMED, FlagState.DISMISSED)), None
    )
    rule = next((e for e in reversed(events) if not e.is_moderation), None)
    review = flag_review(flag.id, events)
    is_moderator = moderation.is_moderator(request.user)
    lock = discussions.discussion_lock(flag)
    signed_in = request.user.is_authenticated
    context = {
        "flag": flag,
        "events": events,
        "decision": decision,
        "rule": rule,
        "decision_stale": review.stale,
        "is_moderator": is_moderator,
        "form": FlagDecisionForm(),
        "lock": lock,
        "comments": discussion_selectors.flag_comments(flag, include_internal=is_moderator),
        "actions": discussion_selectors.flag_actions(flag),
        "steps": discussion_selectors.moderator_steps(flag),
        "comment_form": comment_form or CommentForm(),
        "can_post": signed_in and (lock is None or is_moderator),
        "viewer_role": discussions.comment_role(user=request.user, flag=flag) if signed_in else "",
    }
    return render(request, "moderation/flag.html", context, status=status)


@require_POST
@login_required
def comment(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag(flag_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return flag_page(request, flag, comment_form=form, status=400)
    try:
        posted = discussions.comment_post(
            flag_id=flag.id,
            user=request.user,
            body=form.cleaned_data["body"],
            internal=form.cleaned_data["internal"],
        )
    except ValidationError as error:
        form.add_error("body", error)
        return flag_page(request, flag, comment_form=form, status=400)
    except PermissionDenied as refusal:
        form.add_error(None, str(refusal))
        return flag_page(request, flag, comment_form=form, status=403)
    messages.success(request, "Internal note posted." if posted.internal else "Comment posted.")
    return redirect(reverse("flag-detail", args=[flag.id]) + f"#comment-{posted.id}")


@require_POST
@login_required
def lock(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag(flag_id)
    form = LockForm(request.POST)

    def act() -> str:
        action = discussions.discussion_lock_set(
            flag_id=flag.id,
            user=request.user,
            locked=form.cleaned_data["locked"],
            reason=form.cleaned_data["reason"],
        )
        return _recorded(action)

    return _flag_action(request, flag, form, act)


@require_POST
@login_required
def rerun(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag(flag_id)
    form = ReasonForm(request.POST)

    def act() -> str:
        action = moderation.flag_rerun_queue(
            flag_id=flag.id, user=request.user, reason=form.cleaned_data["reason"]
        )
        return _recorded(action)

    return _flag_action(request, flag, form, act)


def _recorded(action: FlagAction) -> str:
    return f"{action.get_action_display()}: recorded."


def _flag_action(
    request: HttpRequest, flag: Flag, form: forms.Form, act: Callable[[], str]
) -> HttpResponse:
    return moderator_action(
        request,
        form,
        act,
        page=lambda status: flag_page(request, flag, status=status),
        done_url=reverse("flag-detail", args=[flag.id]) + "#moderator-actions",
    )
