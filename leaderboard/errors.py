"""Error pages that look like the rest of the site."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

DEFAULT_RETRY_AFTER = 300  # allauth's sign-in window, in seconds
API_PREFIX = "/api/"


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    """The site's error page; under /api/ the JSON body the API's own errors have."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=status)
    return render(
        request, "leaderboard/error.html", {"title": title, "message": message}, status=status
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Only our own refusals carry a sentence meant for the visitor; Django's (a bad Host
    # header, a suspicious operation) may name internals.
    message = str(exception) if isinstance(exception, ValueError) else ""
    return _page(request, 400, "Bad request", message or "The request could not be understood.")


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 403, "Not allowed", str(exception) or "You may not do this.")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 404, "Not found", "There is nothing at this address.")


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Over a rate limit: 429 with when to try again (allauth's sign-in limit comes here too,
    without a time of its own)."""
    retry_after = getattr(exception, "retry_after", DEFAULT_RETRY_AFTER)
    message = getattr(exception, "message", "") or (
        "Too many attempts in a short time. Wait a few minutes, then try again."
    )
    response = _page(request, 429, "Too many requests", message)
    response["Retry-After"] = str(retry_after)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "Something went wrong",
        "The error has been logged. Please try again in a moment.",
    )
