"""What the endpoints share: paging, the token sign-in, the model lookup and the filters."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer, SessionAuth

from evaluations import selectors
from evaluations.catalogue import SUITES
from evaluations.models import ModelRepo
from evaluations.selectors import open_data
from evaluations.services import tokens
from evaluations.services.permissions import Account

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_ID = 2**63 - 1  # ids are bigints: a larger number is a 422, never a database error


CSV_RESPONSE = {
    "responses": {
        200: {"description": "a CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}
    }
}


class SignedInRequest(HttpRequest):
    """A request an endpoint's ``auth`` let through: ninja puts on ``auth`` what the
    authenticator returned, on this site always an account (the token's or the session's)."""

    auth: Account


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer cc_…``: a token made on the account page."""

    openapi_description = "An API token from your account page (/account/)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return tokens.api_token_authenticate(token)


class SignedInSession(SessionAuth):
    """The site's own session, for its pages' scripts. Its CSRF check runs only when someone
    is signed in: a request with neither a session nor a valid token is then answered 401
    about the token, not 403 about a CSRF cookie it never had."""

    def __call__(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


def repo_or_404(owner: str, name: str) -> ModelRepo:
    repo = open_data.repo_by_hub_id(f"{owner}/{name}")
    if repo is None:
        raise HttpError(404, f"There is no model “{owner}/{name}” on the leaderboard.")
    return repo


def text_filter(value: str, name: str) -> str:
    # A NUL never gets here: the middleware answers 400 for it before any view.
    if len(value) > 200:
        raise HttpError(400, f"The filter “{name}” must be text of at most 200 characters.")
    return value.strip()


def yes_no(value: str, name: str) -> bool | None:
    """A boolean filter: true/false (also 1/0, yes/no); empty means no filter."""
    answers = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if value and value.lower() not in answers:
        raise HttpError(400, f"The filter “{name}” takes true or false.")
    return answers[value.lower()] if value else None


def suite_or_400(suite: str | None) -> str:
    suite = suite or selectors.default_suite()
    if suite not in SUITES:
        raise HttpError(400, f"There is no suite “{suite}”; choose one of {', '.join(SUITES)}.")
    return suite


class CappedLimitOffset(LimitOffsetPagination):
    """Limit/offset with bounds, so no page asks the database for more than it can count."""

    class Input(Schema):
        limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=10**9)
