"""``/healthz`` for the load balancer: 200 when the database and the broker answer, 503 with
which of them is down otherwise.

Answered by a middleware placed first, before the host check, the HTTPS redirect, sessions
and sign-in: a load balancer probes by address over plain HTTP, the answer names no host and
holds no secret (only "ok" or "down"; the cause goes to the log), and it is never cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from evaluations import dispatch

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


def database_problem() -> str:
    """Why the database cannot be queried, or "" when it can."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver's error: the check reports, never raises
        return f"{type(error).__name__}: {error}"[:300]
    return ""


def health_response() -> JsonResponse:
    problems = {"database": database_problem(), "broker": dispatch.broker_problem()}
    for name, problem in problems.items():
        if problem:
            logger.warning("health check: the %s is down: %s", name, problem)
    body = {name: "down" if problem else "ok" for name, problem in problems.items()}
    healthy = not any(problems.values())
    response = JsonResponse({"status": "ok" if healthy else "down", **body})
    response.status_code = 200 if healthy else 503
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != HEALTH_PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse("Use GET.", status=405, content_type="text/plain")
            response["Allow"] = "GET, HEAD"
            return response
        return health_response()
