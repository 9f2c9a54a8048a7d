"""The lineage check's candidate bases, as moderators see and change them: the settings'
list and moderators' additions, less those retired, with who changed what and why."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from evaluations.selectors.lineage import lineage_base_actions, lineage_candidates
from evaluations.services import lineage, moderation
from leaderboard.forms import LineageBaseForm
from leaderboard.views.moderator_actions import NOT_A_MODERATOR, moderator_action


@require_http_methods(["GET", "POST"])
@login_required
def lineage_bases(request: HttpRequest) -> HttpResponse:
    if not moderation.is_moderator(request.user):
        raise PermissionDenied(NOT_A_MODERATOR)
    form = LineageBaseForm(request.POST or None)
    if request.method == "GET":
        return _page(request, form, 200)

    def act() -> str:
        data = form.cleaned_data
        change = (
            lineage.lineage_base_add if data["action"] == "add" else lineage.lineage_base_retire
        )
        change(user=request.user, hub_id=data["hub_id"], reason=data["reason"])
        verb = "added to" if data["action"] == "add" else "retired from"
        return f"{data['hub_id'].strip()} {verb} the candidate bases."

    return moderator_action(
        request,
        form,
        act,
        page=lambda status: _page(request, form, status),
        done_url=reverse("lineage-bases"),
    )


def _page(request: HttpRequest, form: LineageBaseForm, status: int) -> HttpResponse:
    context = {
        "form": form,
        "candidates": lineage_candidates(),
        "configured": settings.LINEAGE_CANDIDATE_BASES,
        "actions": lineage_base_actions(),
    }
    return render(request, "moderation/lineage_bases.html", context, status=status)
