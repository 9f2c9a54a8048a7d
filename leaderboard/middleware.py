"""Around every view: refuse requests no page of this site can answer; read the site's
generation once per request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from evaluations import generation
from leaderboard import errors

NUL_MESSAGE = (
    "The request contains a NUL character (%00), which no address or text on this site can hold."
)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulCharactersMiddleware:
    """A NUL in the path, the query string or a submitted form is never real input: PostgreSQL
    refuses it in text, so a lookup or a save with one would end in a database error. Answer
    400 before any view. (JSON bodies are the API's schemas' to check.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            fields.append(request.POST)
        if "\x00" in request.path or any(_holds_nul(query) for query in fields):
            return errors.bad_request(request, ValueError(NUL_MESSAGE))
        return self.get_response(request)


def _holds_nul(query: QueryDict) -> bool:
    return any(
        "\x00" in key or "\x00" in value for key, values in query.lists() for value in values
    )


class OneGenerationPerRequestMiddleware:
    """A page reads the site's generation for its cache key, its standings and its licence
    choices: one read per request serves them all (``generation.read_once``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with generation.read_once():
            return self.get_response(request)
