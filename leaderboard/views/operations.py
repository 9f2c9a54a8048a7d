"""The operator's pages: Prometheus metrics and the staff page of live workers.

``/metrics`` answers staff signed in, or a scraper sending ``Authorization: Bearer
<METRICS_TOKEN>``; anyone else gets 401 (no credentials) or 403 (wrong ones), in words.
``/healthz`` is ``leaderboard.health``'s, answered before every other middleware.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from evaluations import dispatch, routing
from evaluations.selectors import operations
from leaderboard import metrics as prometheus


def _metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        given = authorization.removeprefix("Bearer ").strip().encode()
        token = settings.METRICS_TOKEN.encode()
        if token and hmac.compare_digest(given, token):
            return None
        return _plain("The bearer token is not this site's METRICS_TOKEN.", 403)
    if request.user.is_authenticated:
        if request.user.is_staff:
            return None
        return _plain("Only staff, or a scraper with the METRICS_TOKEN, may read metrics.", 403)
    response = _plain("Send Authorization: Bearer <METRICS_TOKEN>, or sign in as staff.", 401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(prometheus.render(), content_type=prometheus.CONTENT_TYPE)


@never_cache
@require_GET
@login_required
def workers(request: HttpRequest) -> HttpResponse:
    """Who is working: the workers that answer over the broker, and the database's runs in
    flight with their heartbeats. With the broker down it says so and shows the database's."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can see the workers.")
    now = timezone.now()
    queues = [c.queue for c in routing.worker_classes()] + [settings.HOUSEKEEPING_QUEUE]
    broker_problem = dispatch.broker_problem()
    seen = dispatch.WorkersSeen() if broker_problem else dispatch.workers_seen(timeout=1.0)
    depths = {} if broker_problem else dispatch.queue_depths(queues)
    waits = {wait.queue: wait for wait in operations.queue_waits(now)}
    context = {
        "broker_problem": broker_problem,
        "workers_problem": seen.problem,
        "workers": sorted(seen.answered.items()),
        "queues": [(queue, depths.get(queue), waits.get(queue)) for queue in queues],
        "in_flight": operations.runs_in_flight(now),
        "heartbeat_timeout": settings.EVAL_HEARTBEAT_TIMEOUT,
        "classes": routing.worker_classes(),
    }
    return render(request, "operations/workers.html", context)
