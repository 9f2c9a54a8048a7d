"""Correcting or withdrawing a claim from its model's page. Both record a new claim row that
supersedes the claim (``services.contributions``): nothing is edited or deleted, and the
model page shows the history. Who may do it is the services' rule: an author claim by an
author of the repo, a third-party claim by whoever reported it."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from evaluations.models import Claim
from evaluations.services import contributions
from evaluations.services.limits import RateLimited
from leaderboard import confirmations
from leaderboard.errors import too_many_requests
from leaderboard.forms import ClaimCorrectionForm, ClaimWithdrawalForm
from leaderboard.templatetags.scores import model_url
from leaderboard.views.model_pages import model_page
from leaderboard.views.moderator_actions import form_messages


@login_required
@require_POST
def correct(request: HttpRequest, claim_id: int) -> HttpResponse:
    earlier = get_object_or_404(Claim.objects.select_related("repo"), id=claim_id)
    form = ClaimCorrectionForm(request.POST)

    def act() -> Claim:
        data = form.cleaned_data
        stderr = data.get("stderr")
        return contributions.claim_correct(
            user=request.user,
            claim_id=claim_id,
            value=float(data["value"]),
            unit=data["unit"],
            stderr=None if stderr is None else float(stderr),
            note=data.get("note") or "",
        )

    return _answer(request, earlier, form, act)


@login_required
@require_POST
def withdraw(request: HttpRequest, claim_id: int) -> HttpResponse:
    earlier = get_object_or_404(Claim.objects.select_related("repo"), id=claim_id)
    form = ClaimWithdrawalForm(request.POST)

    def act() -> Claim:
        note = form.cleaned_data.get("note") or ""
        return contributions.claim_withdraw(user=request.user, claim_id=claim_id, note=note)

    return _answer(request, earlier, form, act)


def _answer(
    request: HttpRequest, earlier: Claim, form: forms.Form, act: Callable[[], Claim]
) -> HttpResponse:
    """Record, then say what was recorded and any claim-matched run it queued; a refusal
    shows the model page again with the reason (400). PermissionDenied answers 403."""
    try:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        recorded: Claim = act()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return model_page(request, earlier.repo, status=400)
    except RateLimited as limited:
        return too_many_requests(request, limited)
    messages.success(request, confirmations.claims_recorded([recorded]))
    return redirect(f"{model_url(earlier.repo.hub_id)}#claim-history")
