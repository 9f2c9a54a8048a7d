"""A signed-in user's own pages: what the hub says about them, their API tokens, and their
submissions, claims and flags with what to do next."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from evaluations.models import ApiToken
from evaluations.selectors import contributions
from evaluations.services import authors, tokens
from evaluations.services.permissions import Account
from leaderboard import hub_identity


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = cast(Account, request.user)  # @login_required lets only an account in
    hub_identity.refresh_if_stale(user)
    context = {
        "membership": authors.hub_membership_current(user),
        "tokens": ApiToken.objects.filter(user=user),
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "account/profile.html", context)


@login_required
@require_GET
def my_submissions(request: HttpRequest) -> HttpResponse:
    """Every submission, run, claim and flag of the user's repos, with what to do next."""
    user = cast(Account, request.user)  # @login_required lets only an account in
    work = contributions.work_of(user)
    context = {"work": work, "to_do": sum(item.to_do for item in work)}
    return render(request, "account/submissions.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        row, token = tokens.api_token_create(user=request.user, name=request.POST.get("name", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account")
    # Shown once on the next page, then gone: only its digest is stored.
    request.session["new_api_token"] = {"name": row.name, "token": token}
    return redirect("account")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    row = tokens.api_token_revoke(user=request.user, token_id=token_id)
    messages.info(request, f"Token “{row.name}” is revoked; requests with it now get 401.")
    return redirect("account")
