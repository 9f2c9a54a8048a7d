"""The submit form: a model repo, a revision, a suite, and the claims its author makes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from evaluations.catalogue import SUITES
from evaluations.services import authors, contributions
from evaluations.services.limits import RateLimited
from evaluations.services.submissions import SubmissionOutcome
from leaderboard import confirmations
from leaderboard.errors import too_many_requests
from leaderboard.forms import ClaimForm, SubmissionForm, claim_forms


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    suite = (data or request.GET).get("suite") or "smoke"
    initial = {
        "suite": suite,
        "repo_id": request.GET.get("repo_id", ""),
        "ref": request.GET.get("ref", "main"),
    }
    form = SubmissionForm(data, initial=initial)
    claims = claim_forms(suite if suite in SUITES else "smoke", data)
    if data is not None and form.is_valid() and all(claim.is_valid() for claim in claims):
        try:
            outcome = _submit(request, form, claims)
        except ValidationError as error:
            form.add_error(None, error)
        except RateLimited as limited:
            return too_many_requests(request, limited)
        else:
            recorded = list(outcome.submission.claims.order_by("id"))
            if recorded:
                messages.success(request, confirmations.claims_recorded(recorded))
            if outcome.reused:
                messages.info(
                    request,
                    "This repo, revision and setting was already submitted: "
                    "here is its run. No new evaluation was queued.",
                )
            return redirect("run-detail", run_id=outcome.run.id)
    context = {
        "form": form,
        "claims": claims,
        "suite": suite,
        "hub_membership": authors.hub_membership_current(request.user),
    }
    return render(request, "leaderboard/submit.html", context, status=400 if data else 200)


def _submit(
    request: HttpRequest, form: SubmissionForm, claims: list[ClaimForm]
) -> SubmissionOutcome:
    inputs = [claim.to_input() for claim in claims]
    return contributions.submission_submit(
        user=request.user,
        repo_id=form.cleaned_data["repo_id"],
        claims=[claim for claim in inputs if claim is not None],
        **form.setting(),
    )
