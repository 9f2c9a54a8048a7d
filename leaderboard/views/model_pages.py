"""A model's page: its claims beside the measurements, its revisions and runs, its flags
and moderation history; and the JSON of its charts."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from plotly.utils import PlotlyJSONEncoder

from evaluations import selectors
from evaluations.evidence.matching import claim_evidence, headline_verdict
from evaluations.evidence.verdicts import Verdict
from evaluations.markup import model_card_html
from evaluations.models import ModelRepo, RunState
from evaluations.prepared import NAME_STAND_IN, PreparedQuery
from evaluations.selectors.provenance import provenance_signals
from evaluations.services import contributions, endpoints
from evaluations.services.permissions import is_moderator
from leaderboard import charts as charts_module
from leaderboard.forms import EndpointRegistrationForm
from leaderboard.page_cache import cached_page


@require_GET
@cached_page
def model_detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    return model_page(request, _shown_repo_or_404(request, f"{owner}/{name}"))


def _shown_repo_or_404(request: HttpRequest, hub_id: str) -> ModelRepo:
    """A repo never found on the hub (a typo, a private repo, a bad ref: see
    ``ModelRepo.objects.resolved``) has no public page. Its submitters and the moderators
    see the page, which says so and why: they are the ones who can act on it."""
    found = SHOWN_REPO.rows(hub_id)
    if not found:
        raise Http404("No model with this id.")
    repo = found[0]
    if repo.is_resolved or _may_see_unresolved(request, repo):
        return repo
    raise Http404("No model with this id was ever found on the hub.")


# The re-upload watch's row comes with the repo: the provenance panel reads it; and whether
# the repo has the rarer records the page shows (re-uploads, lineage checks, endpoints,
# moderators' decisions, flag events, run artifacts), which it then reads only where there
# are some. Its SQL is built once (see ``evaluations.prepared``): its subqueries take the ORM
# longer to build than PostgreSQL to run.
SHOWN_REPO = PreparedQuery(
    lambda hub_id: (
        ModelRepo.objects.with_resolved()
        .with_presence()
        .select_related("watch")
        .filter(hub_id=hub_id)
    ),
    NAME_STAND_IN,
)


def _may_see_unresolved(request: HttpRequest, repo: ModelRepo) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    return is_moderator(user) or selectors.is_repo_contributor(repo, user.pk)


def model_page(request: HttpRequest, repo: ModelRepo, *, status: int = 200) -> HttpResponse:
    """The page itself; a refused moderator action on the model shows it again, with 400."""
    owner, name = repo.hub_id.split("/", 1)
    # Every run of the repo is read once: the commits list them, the claims are matched
    # with their scores, and the refusal and the runs in progress are among them.
    runs = selectors.repo_runs(repo)
    revisions = selectors.model_revisions(repo, runs=runs)
    # The claims and the flag events are read once too: the evidence and the histories
    # show the same rows.
    claims = selectors.repo_claims(repo, [view.revision for view in revisions])
    # ``SHOWN_REPOS`` says whether the repo has flag events and moderators' decisions at all.
    has_flag_events = getattr(repo, "has_flag_events", True)
    flag_events = list(selectors.flag_history(repo.id)) if has_flag_events else []  # newest first
    evidence = claim_evidence(
        repo.id,
        runs=[run for view in revisions for run in view.runs],
        claims=claims.current,
        flag_events=flag_events[::-1],
    )
    has_decisions = getattr(repo, "has_decisions", True)
    visibility = list(repo.decisions.newest_first()) if has_decisions else []  # newest in force
    latest = revisions[0].revision if revisions else None
    context = {
        "repo": repo,
        "owner": owner,
        "name": name,
        "hub_url": f"{settings.HF_ENDPOINT.rstrip('/')}/{repo.hub_id}",
        "worst_verdict": headline_verdict(evidence),
        "verdict_legend": list(Verdict),
        "latest_run": next(
            (
                run
                for view in revisions
                for run in view.runs
                if run.state == RunState.FINISHED and run.duplicate_of_id is None
            ),
            None,
        ),
        "evidence": evidence,
        "flag_events": flag_events,
        "provenance_signals": provenance_signals(repo, evidence),
        "may_register_endpoint": endpoints.endpoint_may_register(request.user, repo),
        "endpoint_form": EndpointRegistrationForm(),
        "superseded_claims": claims.superseded,
        "correctable": contributions.correctable_claims(
            request.user, repo.hub_id, [row.claim for row in evidence]
        ),
        "visibility": visibility[0] if visibility else None,
        "visibility_history": visibility,
        "revisions": revisions,
        "card_html": model_card_html(latest.id, latest.card_text) if latest else "",
        "never_resolved": not revisions,
        "refusal": selectors.latest_refusal(runs),
        "pending_runs": selectors.pending_runs(runs),
    }
    return render(request, "leaderboard/model.html", context, status=status)


HISTORY_COLUMNS = ("1", "2", "3", "4")


@require_GET
@cached_page
def model_history(request: HttpRequest, owner: str, name: str) -> JsonResponse:
    """The model page's chart: one figure, a panel per benchmark (fetched by the page's
    script, which asks for as many ``columns`` of panels as the screen has room for)."""
    repo = _shown_repo_or_404(request, f"{owner}/{name}")
    columns = request.GET.get("columns", "2")
    if columns not in HISTORY_COLUMNS:
        return JsonResponse(
            {"detail": f"columns must be one of {', '.join(HISTORY_COLUMNS)}."}, status=400
        )
    chart = charts_module.history_figure(*selectors.history_data(repo.id), columns=int(columns))
    return JsonResponse(chart, encoder=PlotlyJSONEncoder)
