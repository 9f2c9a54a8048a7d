"""Reads of hosted endpoints: the weights' run a check compares with, what the model page's
provenance panel shows of each endpoint, and the raw checks the API returns. A secret is never
read here beyond whether there is one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluations.models import EndpointCheck, EvaluationRun, HostedEndpoint, ModelRepo


def weights_run(repo_id: int) -> EvaluationRun | None:
    """The repo's latest finished whole-suite run: the released weights as measured."""
    return (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo_id=repo_id, revision__isnull=False)
        .select_related("revision", "submission")
        .order_by("-finished_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class EndpointView:
    endpoint: HostedEndpoint
    latest: EndpointCheck | None
    earlier: list[EndpointCheck]


def endpoint_views(repo: ModelRepo) -> list[EndpointView]:
    """The repo's endpoints, the ones in service first, each with its checks, newest first."""
    if not getattr(repo, "has_endpoints", True):  # ``ModelRepo.objects.with_presence``
        return []
    endpoints = repo.endpoints.prefetch_related("checks__flag", "checks__revision").order_by(
        "retired_at", "-registered_at", "-id"
    )
    views = []
    for endpoint in endpoints:
        checks = sorted(endpoint.checks.all(), key=lambda c: (c.finished_at, c.id), reverse=True)
        views.append(EndpointView(endpoint, checks[0] if checks else None, checks[1:]))
    return views


def endpoint_signal_verdict(views: list[EndpointView]) -> tuple[str, str]:
    """The panel's one-word verdict over the endpoints in service, and its summary."""
    latest = [v.latest for v in views if v.endpoint.retired_at is None and v.latest is not None]
    if not [v for v in views if v.endpoint.retired_at is None]:
        return "not checked", "No hosted endpoint is registered for this model."
    if not latest:
        return "not checked", "The endpoint has not been checked yet."
    for verdict in ("differs", "misconfigured", "inconclusive"):
        found = [check for check in latest if check.verdict == verdict]
        if found:
            return verdict, found[0].summary
    return "consistent", latest[0].summary


def endpoint_rows(repo: ModelRepo) -> list[dict[str, Any]]:
    """The endpoints and their checks, as the API returns them (never the secret)."""
    rows = []
    for view in endpoint_views(repo):
        endpoint = view.endpoint
        checks = [c for c in (view.latest, *view.earlier) if c is not None]
        rows.append(
            {
                "kind": "hosted-endpoint",
                "base_url": endpoint.base_url,
                "served_model": endpoint.served_model,
                "api_kind": endpoint.api_kind,
                "has_secret": endpoint.has_secret,
                "registered_at": endpoint.registered_at,
                "registered_as": endpoint.registered_as,
                "retired_at": endpoint.retired_at,
                "checks": [
                    {
                        "id": check.id,
                        "verdict": check.verdict,
                        "summary": check.summary,
                        "commit_sha": check.revision.commit_sha if check.revision else None,
                        "weights_run_id": check.weights_run_id,
                        "started_at": check.started_at,
                        "finished_at": check.finished_at,
                        "error": check.error,
                        "evidence": check.evidence,
                        "flag_id": getattr(getattr(check, "flag", None), "id", None),
                    }
                    for check in checks
                ],
            }
        )
    return rows
