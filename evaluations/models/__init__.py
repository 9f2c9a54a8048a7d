"""The domain's rows, one module per aggregate; every public name is re-exported here, so
``from evaluations.models import X`` is the one way to import them (and Django finds them).

Measurements are never updated in place: a new run is a new row, and a run's scores are
written once, when it is recorded. What a page shows as "current" is derived from them.
State changes go through ``evaluations.services``; nothing here has business logic.
On PostgreSQL the append-only tables (scores, artifacts, claims, flags and the rows that record
decisions) refuse UPDATE and DELETE themselves: see migration 0011 for the list and why.

The modules import each other one way only (a layers contract in pyproject.toml keeps it so):
``repos`` ← ``runs`` ← ``claims`` ← ``discussions``; ``read_tables`` and ``audit`` sit above
``runs``; ``provenance``, ``lineage`` and ``endpoints`` sit beside ``runs`` (they name runs
by string); ``accounts`` stands alone.
"""

from evaluations.models.accounts import ApiToken, ApiTokenQuerySet, HubMembership
from evaluations.models.audit import RunAction
from evaluations.models.claims import (
    AUTOMATIC_STATES,
    DECISION_STATES,
    FLAG_SUBJECT_REPOS,
    PROVENANCE_FLAG_KINDS,
    QUEUE_STATES,
    Claim,
    ClaimQuerySet,
    ClaimSource,
    Flag,
    FlagEvent,
    FlagEventQuerySet,
    FlagKind,
    FlagState,
    Unit,
)
from evaluations.models.discussions import Comment, FlagAction
from evaluations.models.endpoints import (
    ApiKind,
    EndpointCheck,
    EndpointVerdict,
    HostedEndpoint,
)
from evaluations.models.lineage import LineageBaseAction, LineageCheck, LineageVerdict
from evaluations.models.provenance import (
    ProvenanceEvent,
    RepoWatch,
    WatchOutcome,
    file_kind,
)
from evaluations.models.read_tables import GenerationBump, RankingEntry
from evaluations.models.repos import ModelRepo, RepoDecision, RepoDecisionQuerySet, Revision
from evaluations.models.runs import (
    ACTIVE_STATES,
    FINAL_STATES,
    Backend,
    EvaluationRun,
    EvaluationRunQuerySet,
    Precision,
    RunArtifact,
    RunState,
    Score,
    ScoreQuerySet,
    Submission,
)

__all__ = [
    "ACTIVE_STATES",
    "AUTOMATIC_STATES",
    "DECISION_STATES",
    "FINAL_STATES",
    "QUEUE_STATES",
    "ApiKind",
    "ApiToken",
    "ApiTokenQuerySet",
    "Backend",
    "Claim",
    "ClaimQuerySet",
    "ClaimSource",
    "Comment",
    "EndpointCheck",
    "EndpointVerdict",
    "EvaluationRun",
    "EvaluationRunQuerySet",
    "Flag",
    "FlagAction",
    "FlagEvent",
    "FlagEventQuerySet",
    "FlagKind",
    "FLAG_SUBJECT_REPOS",
    "PROVENANCE_FLAG_KINDS",
    "FlagState",
    "GenerationBump",
    "HostedEndpoint",
    "HubMembership",
    "LineageBaseAction",
    "LineageCheck",
    "LineageVerdict",
    "ModelRepo",
    "Precision",
    "ProvenanceEvent",
    "RankingEntry",
    "RepoDecision",
    "RepoDecisionQuerySet",
    "RepoWatch",
    "Revision",
    "RunAction",
    "RunArtifact",
    "RunState",
    "Score",
    "ScoreQuerySet",
    "Submission",
    "Unit",
    "WatchOutcome",
    "file_kind",
]
