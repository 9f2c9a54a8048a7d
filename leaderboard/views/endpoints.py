"""Registering a hosted endpoint for a model, retiring it, and asking for a new check, from the
model's page. The services decide who may (an author of the repo or a moderator) and check the
address; a refusal shows the model page again with the reason (400), a permission refusal
answers 403."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from evaluations.models import HostedEndpoint, ModelRepo
from evaluations.services import endpoints
from leaderboard.forms import EndpointRegistrationForm
from leaderboard.templatetags.scores import model_url
from leaderboard.views.model_pages import model_page
from leaderboard.views.moderator_actions import form_messages


@login_required
@require_POST
def register(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_object_or_404(ModelRepo, hub_id=f"{owner}/{name}")
    form = EndpointRegistrationForm(request.POST)

    def act() -> str:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        data = form.cleaned_data
        endpoints.endpoint_register(
            user=request.user,
            repo_id=repo.hub_id,
            base_url=data["base_url"],
            served_model=data["served_model"],
            api_kind=data["api_kind"],
            secret=data.get("secret") or "",
        )
        return "Endpoint registered; its first check is queued."

    return _answer(request, repo, act)


@login_required
@require_POST
def retire(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(HostedEndpoint.objects.select_related("repo"), id=endpoint_id)

    def act() -> str:
        endpoints.endpoint_retire(user=request.user, endpoint_id=endpoint.id)
        return "Endpoint retired: it is checked no more; its checks stay on the record."

    return _answer(request, endpoint.repo, act)


@login_required
@require_POST
def check_again(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(HostedEndpoint.objects.select_related("repo"), id=endpoint_id)

    def act() -> str:
        endpoints.endpoint_check_request(user=request.user, endpoint_id=endpoint.id)
        return "A new check of the endpoint is queued."

    return _answer(request, endpoint.repo, act)


def _answer(request: HttpRequest, repo: ModelRepo, act: Callable[[], str]) -> HttpResponse:
    try:
        done = act()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return model_page(request, repo, status=400)
    messages.success(request, done)
    return redirect(f"{model_url(repo.hub_id)}#signal-endpoint")
