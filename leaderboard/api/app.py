"""The API object: its OpenAPI document, its answers to refused requests, and the routers
of each resource (``claims``, ``models``, ``runs``, ``rankings``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.operation import Operation

from evaluations.services.limits import RateLimited
from leaderboard.api import claims, models, rankings, runs
from leaderboard.api.schemas import document_invalid_input


class ClaimCheckAPI(NinjaAPI):
    """NinjaAPI whose document also declares the 422 it answers for refused input."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_invalid_input(schema)

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Named after the endpoint, not the module that holds it, so the document (and any
        client generated from it) stays the same when code moves."""
        return f"leaderboard_api_{operation.view_func.__name__}"


api = ClaimCheckAPI(
    title="ClaimCheck API",
    version="1",
    urls_namespace="api-v1",
    description=(
        "Claimed and measured scores of language models. Units: every score, standard error, "
        "gap and tolerance is a fraction in [0, 1], and claims are sent as fractions unless "
        "`unit` says otherwise; only the rankings' normalised `average` and `average_stderr` "
        "are in points (0–100). The CSV downloads use fractions throughout, named `*_fraction`."
    ),
)
for resource in (claims, models, runs, rankings):
    api.add_router("", resource.router)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": " ".join(error.messages)}, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    detail = str(error) or "You may not do this."
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": error.message}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    """401 with a sentence about the token, and the scheme to use (RFC 6750)."""
    if "Authorization" in request.headers:
        detail = (
            "The API token is not valid: it may be mistyped, revoked or expired. "
            "Make a new one on your account page (/account/)."
        )
        challenge = 'Bearer error="invalid_token"'
    else:
        detail = (
            "This needs an API token: send it as “Authorization: Bearer cc_…”, "
            "with a token made on your account page (/account/)."
        )
        challenge = "Bearer"
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = challenge
    return response
