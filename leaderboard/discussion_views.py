"""The public page of a flag with its discussion, and what is posted from it.

Who may post what, and who may lock a discussion or queue a re-run, is decided in
``evaluations.services``; these views turn a refusal into a 403 and bad input into a 400
that shows the page again with the message (and keeps what was typed).
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
from evaluations.markup import MAX_BODY
from evaluations.models import Flag, FlagAction, FlagState
from evaluations.selectors import discussions as discussion_selectors
from evaluations.services import discussions, moderation
from leaderboard.moderation_views import FlagDecisionForm


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Write something before posting.",
            "max_length": f"Keep a comment under {MAX_BODY:,} characters.",
        },
        help_text="Markdown: **bold**, *italic*, `code`, [links](https://…), lists, quotes.",
    )
    internal = forms.BooleanField(
        required=False, label="Internal note (only moderators will see it)"
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=moderation.MAX_REASON, error_messages={"required": "Give a reason."}
    )


class LockForm(ReasonForm):
    locked = forms.BooleanField(required=False)


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
    return _moderator_action(
        request,
        flag,
        form,
        lambda: discussions.discussion_lock_set(
            flag_id=flag.id,
            user=request.user,
            locked=form.cleaned_data["locked"],
            reason=form.cleaned_data["reason"],
        ),
    )


@require_POST
@login_required
def rerun(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag(flag_id)
    form = ReasonForm(request.POST)
    return _moderator_action(
        request,
        flag,
        form,
        lambda: moderation.flag_rerun_queue(
            flag_id=flag.id, user=request.user, reason=form.cleaned_data["reason"]
        ),
    )


def _moderator_action(
    request: HttpRequest, flag: Flag, form: forms.Form, act: Callable[[], FlagAction]
) -> HttpResponse:
    """Run ``act`` (a service call) if the form is valid; a refusal propagates as a 403."""
    if not moderation.is_moderator(request.user):
        raise PermissionDenied("Only moderators can do this.")
    try:
        if not form.is_valid():
            raise ValidationError([m for ms in form.errors.values() for m in ms])
        action = act()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return flag_page(request, flag, status=400)
    messages.success(request, f"{action.get_action_display()}: recorded.")
    return redirect(reverse("flag-detail", args=[flag.id]) + "#moderator-actions")
