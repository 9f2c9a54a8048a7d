"""Moderators' pages: the queue, decisions on flags and models, the audit log.

Who may act is decided in ``evaluations.services.moderation``; a decision answers as every
moderator action does (``moderator_actions``): a refusal is a 403, a bad reason a 400 that
shows the page again with the message.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from evaluations import selectors
from evaluations.models import Flag, ModelRepo
from evaluations.selectors import discussions as discussion_selectors
from evaluations.services import moderation
from leaderboard.forms import FlagDecisionForm, VisibilityForm
from leaderboard.views.discussions import flag_page
from leaderboard.views.model_pages import model_page
from leaderboard.views.moderator_actions import moderator_action


def _moderator_or_403(request: HttpRequest) -> None:
    if not moderation.is_moderator(request.user):
        raise PermissionDenied("Only moderators can see this page.")


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _moderator_or_403(request)
    sort = request.GET.get("sort", "severity")
    if sort not in selectors.QUEUE_SORTS:
        return render(
            request,
            "leaderboard/error.html",
            {"title": "Unknown sort", "message": "Sort by severity, age or q."},
            status=400,
        )
    context = {"queue": selectors.moderation_queue(sort), "sort": sort, "form": FlagDecisionForm()}
    return render(request, "moderation/queue.html", context)


@require_POST
@login_required
def decide(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(Flag.objects.select_related("claim__repo"), id=flag_id)
    form = FlagDecisionForm(request.POST)

    def act() -> str:
        moderation.flag_moderate(
            flag_id=flag.id,
            user=request.user,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
        )
        return "Decision recorded."

    return moderator_action(
        request,
        form,
        act,
        page=lambda status: flag_page(request, flag, status=status),
        done_url=reverse("flag-detail", args=[flag.id]),
    )


@require_POST
@login_required
def set_visibility(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_object_or_404(ModelRepo, hub_id=f"{owner}/{name}")
    form = VisibilityForm(request.POST)

    def act() -> str:
        moderation.repo_set_hidden(
            repo_id=repo.id,
            user=request.user,
            hidden=form.cleaned_data["hidden"],
            reason=form.cleaned_data["reason"],
        )
        return "Decision recorded."

    return moderator_action(
        request,
        form,
        act,
        page=lambda status: model_page(request, repo, status=status),
        done_url=reverse("model-detail", args=[owner, name]),
    )


@require_GET
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    _moderator_or_403(request)
    action = request.GET.get("action", "")
    if action and action not in discussion_selectors.AUDIT_ACTIONS:
        return render(
            request,
            "leaderboard/error.html",
            {"title": "Unknown action", "message": f"There is no action “{action}”."},
            status=400,
        )
    actor = request.GET.get("actor", "")[:200]
    paginator = Paginator(
        discussion_selectors.audit_log(action=action, actor=actor),
        discussion_selectors.LOG_PAGE_SIZE,
    )
    try:
        page = paginator.page(request.GET.get("page", "1"))
    except InvalidPage:
        return render(
            request,
            "leaderboard/error.html",
            {
                "title": "No such page",
                "message": f"The log has {paginator.num_pages} page(s) with these filters.",
            },
            status=404 if request.GET.get("page", "").isdigit() else 400,
        )
    context = {
        "entries": discussion_selectors.audit_entries(page.object_list),
        "page": page,
        "action": action,
        "actor": actor,
        "actions": discussion_selectors.AUDIT_ACTIONS,
        "automatic_actor": discussion_selectors.AUTOMATIC_ACTOR,
    }
    return render(request, "moderation/log.html", context)
