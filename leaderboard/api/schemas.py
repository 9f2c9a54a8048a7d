"""The API's schemas: what it takes (claims, ranking filters) and what it answers, as the
OpenAPI document describes them."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict

from evaluations.models import Claim, EvaluationRun, ModelRepo, RunArtifact
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH
from evaluations.validation import REPO_ID_RE

# What clean_repo_id accepts, as the document can say it: the hub's rules ("--" and ".."
# refused by the look-ahead), optionally as the model page's address.
REPO_ID_PATTERN = r"^(?!.*(?:--|\.\.))(?:https://huggingface\.co/)?" + REPO_ID_RE.pattern[1:]


# The API's one unit: every score, error, gap and tolerance it sends is a fraction in [0, 1];
# only the rankings' normalised average is in points, and its fields say so.
FRACTION = "fraction in [0, 1]"


class Message(Schema):
    detail: str


class ClaimIn(Schema):
    benchmark: str = Field(..., max_length=40, description="catalogue key, e.g. mmlu")
    value: float = Field(
        ...,
        description="the claimed score, in `unit`: a fraction unless `unit` says percent "
        "or normalised points",
    )
    unit: Literal["percent", "fraction", "normalised"] = Field(
        "fraction",
        description="the unit of `value` and `stderr`; fraction by default, the unit of every "
        "score this API returns (the site's form takes percent)",
    )
    shots: int = Field(..., ge=0, le=100)
    chat_template: bool = False
    chain_of_thought: bool = False
    system_prompt: str = Field("", max_length=5000)
    stderr: float | None = Field(
        None, ge=0, description="stated standard error, in `unit` (a fraction by default)"
    )
    source_url: str = Field("", max_length=500)
    supersedes: int | None = Field(None, description="id of the claim this one corrects")


class ClaimsIn(Schema):
    model_config = ConfigDict(regex_engine="python-re")  # the pattern's look-ahead

    repo_id: str = Field(
        ...,
        max_length=200,
        pattern=REPO_ID_PATTERN,
        description="the hub's repo id, owner/name, e.g. demo-org/tiny",
    )
    commit_sha: str | None = Field(
        None,
        description="the commit the claims are about; "
        "omit for the model in general (its latest evaluated commit)",
    )
    third_party: bool = Field(
        False, description="true when the reporter is not the author; then a source_url is required"
    )
    claims: list[ClaimIn] = Field(..., min_length=1, max_length=MAX_CLAIMS_PER_BATCH)


class EvidenceOut(Schema):
    claim: ClaimOut
    verdict: str = Field(
        ...,
        description="supported | under-claim | inconclusive | pending | not comparable | "
        "harness in doubt | contradicted: the public verdict, a moderator's decision in force "
        "counted",
    )
    rule_verdict: str = Field(..., description="the automatic check's verdict, before any decision")
    severity: str | None = Field(
        ..., description="the automatic check's, when it rejects the claim"
    )
    explanation: str = Field(..., description="why, in one sentence with the numbers")
    measured: float | None = Field(..., description=FRACTION)
    measured_stderr: float | None = Field(..., description=f"standard error, {FRACTION}")
    run_id: int | None
    gap: float | None = Field(..., description=f"claimed − measured, {FRACTION}")
    z: float | None
    p_holm: float | None
    q_value: float | None
    tolerance: float | None = Field(..., description=FRACTION)
    flagged: bool = Field(
        ...,
        description="whether the claim's flag stands, as the rankings "
        "count it: a moderator's decision in force outranks the verdict",
    )
    flag_url: str | None = Field(None, description="the flag's public page, if flagged once")
    decision: str | None = Field(None, description="confirmed | dismissed | author-asked")
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    decision_predates_evidence: bool = Field(
        False,
        description="the automatic check opened the flag again after the decision, "
        "so the decision is no longer in force",
    )


class HubResultOut(Schema):
    dataset_id: str = Field(..., description="the hub benchmark dataset it names")
    task_id: str
    dataset_revision: str
    matched_to_catalogue: bool = Field(..., description="whether a catalogue benchmark is it")
    source_org: str
    source_ref: str = Field(..., description="refs/pr/N when read from an open pull request")
    date: date_type | None
    verify_token_present: bool = Field(..., description="stored, not checked by this site")


class ClaimOut(Schema):
    id: int
    benchmark: str
    label: str
    value: float | None = Field(..., description=f"{FRACTION}, whatever unit it was typed in")
    unit: str = Field(..., description="the unit the claim was typed in")
    shots: int | None
    source: str
    source_url: str
    reported_by: str
    supersedes: int | None = Field(None, alias="supersedes_id")
    hub_result: HubResultOut | None = Field(
        None, description="what a hub .eval_results entry said beside the score; null otherwise"
    )

    @staticmethod
    def resolve_hub_result(obj: Claim) -> HubResultOut | None:
        if not obj.from_hub_results:
            return None
        return HubResultOut(
            dataset_id=obj.dataset_id,
            task_id=obj.dataset_task_id,
            dataset_revision=obj.dataset_revision,
            matched_to_catalogue=bool(obj.benchmark),
            source_org=obj.source_org,
            source_ref=obj.source_ref,
            date=obj.result_date,
            verify_token_present=bool(obj.verify_token),
        )


class ModelOut(Schema):
    hub_id: str
    latest_commit: str | None = Field(None, description="commit of its latest finished run")
    parameter_count: int | None
    licence: str | None
    open_flag_count: int

    @staticmethod
    def resolve_open_flag_count(obj: ModelRepo) -> int:
        return getattr(obj, "open_flag_count", None) or 0


class ScoreOut(Schema):
    benchmark: str
    task: str
    metric: str
    filter: str
    shots: int
    value: float = Field(..., description=f"raw score, {FRACTION}")
    stderr: float | None = Field(..., description=f"standard error, {FRACTION}")
    n_samples: int | None


class ArtifactOut(Schema):
    kind: str
    sha256: str
    size_bytes: int
    url: str

    @staticmethod
    def resolve_url(obj: RunArtifact, context: dict[str, Any]) -> str:
        request: HttpRequest = context["request"]
        return request.build_absolute_uri(reverse("run-artifact", args=[obj.run_id, obj.kind]))


class RunSummaryOut(Schema):
    id: int
    hub_id: str = Field(..., alias="submission.repo.hub_id")
    commit_sha: str | None
    suite: str = Field(..., alias="submission.suite")
    state: str
    state_label: str = Field(
        ..., description="Refused for a repo refused before evaluation; Duplicate of run #N"
    )
    progress_percent: int
    error_code: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duplicate_of: int | None = Field(None, alias="duplicate_of_id")

    @staticmethod
    def resolve_commit_sha(obj: EvaluationRun) -> str | None:
        return obj.revision.commit_sha if obj.revision else None

    @staticmethod
    def resolve_state_label(obj: EvaluationRun) -> str:
        return obj.state_label


class RunWithScoresOut(RunSummaryOut):
    scores: list[ScoreOut]


class RunOut(RunWithScoresOut):
    ref: str = Field(..., alias="submission.ref")
    backend: str = Field(..., alias="submission.backend")
    precision: str = Field(..., alias="submission.precision")
    chat_template: bool = Field(..., alias="submission.chat_template")
    tasks: list[dict[str, Any]] = Field(..., alias="submission.tasks")
    backend_used: str
    progress_done: int
    progress_total: int
    duration_seconds: float | None
    error_message: str
    error_detail: str
    versions: dict[str, Any]
    artifacts: list[ArtifactOut]


class RevisionOut(Schema):
    commit_sha: str
    parameter_count: int | None
    dtype: str
    licence: str
    model_type: str
    inspected_at: datetime
    files: list[dict[str, Any]]
    changes: list[str] = Field(..., description="against the commit inspected before")


class RevisionWithRunsOut(RevisionOut):
    runs: list[RunWithScoresOut]


class ModelDetailOut(ModelOut):
    revisions: list[RevisionWithRunsOut]


class FlagEventOut(Schema):
    state: str
    severity: str
    reason: str
    evidence: dict[str, Any] = Field(
        ...,
        description=f"claimed, measured, stderrs, gap, z, p, Holm p, q, tolerance; "
        f"scores, errors, gap and tolerance as a {FRACTION}",
    )
    run_id: int | None
    actor: str = Field(..., description="empty: the automatic rule")
    created_at: datetime


class FlagOut(Schema):
    id: int
    claim: ClaimOut
    state: str = Field(
        ..., description="the state of the latest event, the rule's or a moderator's"
    )
    is_open: bool = Field(..., description="the latest event is the rule opening the flag")
    flagged: bool = Field(
        ...,
        description="whether the flag stands, as the rankings count "
        "it: a moderator's decision in force outranks the rule",
    )
    decision: str | None = Field(None, description="confirmed | dismissed | author-asked")
    decision_predates_evidence: bool = Field(
        False,
        description="the rule opened the flag again after the decision, so the "
        "decision is no longer in force",
    )
    created_at: datetime
    events: list[FlagEventOut]


class ProvenanceEventOut(Schema):
    kind: Literal["re-upload"] = Field(
        ..., description="re-upload: the ref named a new commit after evaluation"
    )
    ref: str
    old_commit_sha: str = Field(..., description="the commit evaluated")
    new_commit_sha: str
    new_commit_at: datetime | None = Field(None, description="when the hub says the ref moved")
    detected_at: datetime
    changes: dict[str, list[dict[str, Any]]] = Field(
        ...,
        description="added, removed, changed: path, kind (weights, config, tokenizer, other), "
        "size, sha256, blob_id (changed files: before and after)",
    )
    weights_changed: bool
    reevaluated: bool = Field(..., description="weights, config or tokenizer changed")
    claims_on_old_commit: int
    old_run_id: int | None
    new_run_id: int | None = Field(None, description="the new commit's run, queued or finished")
    flag_id: int | None = Field(None, description="set when weights changed after claims")


class LineageCheckOut(Schema):
    kind: Literal["lineage"] = Field(
        ..., description="lineage: the evaluated commit compared with the base its card names"
    )
    commit_sha: str = Field(..., description="the commit checked (an evaluated one)")
    checked_at: datetime
    named_bases: list[str] = Field(..., description="base_model from the card (or config)")
    candidates: list[str] = Field(..., description="every base compared or tried")
    verdict: str = Field(
        ...,
        description="consistent, closer-to-other, unrelated, inconclusive or no-named-base",
    )
    summary: str
    meaning: str = Field(..., description="what the verdict does and does not mean")
    closer_to: str | None = Field(None, description="the candidate closer than the named base")
    bytes_read: int = Field(..., description="bytes read from the hub (all repos)")
    weights_bytes: int = Field(..., description="the size of the model's safetensors files")
    evidence: dict[str, Any] = Field(
        ...,
        description="candidates: hub_id, named, commit_sha, status, detail, config_diff rows, "
        "tensors (name, shape, rows_compared, cosine, relative_difference, effective_rank, "
        "rank_fraction), medians and relation; settings: the limits used",
    )
    flag_id: int | None = Field(None, description="set when the verdict opened a flag")


class BenchmarkOut(Schema):
    key: str
    display_name: str


class RankingScoreOut(Schema):
    benchmark: str
    value: float | None = Field(..., description=f"raw score, {FRACTION}")
    stderr: float | None = Field(..., description=f"standard error, {FRACTION}")


class RankingRowOut(Schema):
    rank: int = Field(
        ...,
        description="position by average among the filtered models; "
        "models whose 95 % intervals overlap share one",
    )
    tied: bool = Field(..., description="whether the rank is shared")
    hub_id: str
    commit_sha: str | None
    run_id: int
    precision: str
    parameter_count: int | None
    average: float = Field(
        ..., description="normalised above the random baseline, in points 0–100 (not a fraction)"
    )
    average_stderr: float = Field(
        ..., description="standard error of the average, in normalised points 0–100"
    )
    raw_average: float = Field(..., description=f"mean of the raw scores, {FRACTION}")
    flagged: bool = Field(..., description="a claim of the model stands contradicted")
    severity: str = Field(..., description="the worst open flag's severity; empty if none")
    verdict: str = Field(
        ..., description="the worst verdict among the model's current claims; empty: no claims"
    )
    not_comparable: bool = Field(..., description="a current claim no run of ours can settle")
    provenance_flagged: bool = Field(
        ..., description="an open provenance flag: a moderator is asked where the weights come from"
    )
    scores: list[RankingScoreOut]


class RankingsOut(Schema):
    suite: str
    min_params: float | None
    max_params: float | None
    precision: str
    licence: str
    hide_flagged: bool
    hide_not_comparable: bool
    hide_provenance: bool
    sort: str
    order: str
    benchmarks: list[BenchmarkOut]
    rows: list[RankingRowOut]


class RankingsPageOut(RankingsOut):
    total: int = Field(..., description="ranked rows after the filters, on all pages")
    limit: int
    offset: int


class RankingFiltersIn(Schema):
    """The rankings page's filters and sort, with the same names, meaning and messages."""

    suite: str = Field("", description="a suite key; the default suite when empty")
    min_params: str = Field(
        "",
        description="at least this many billions of parameters, "
        "e.g. 0.5 (models of unknown size are left out of a range)",
    )
    max_params: str = Field("", description="at most this many billions of parameters")
    precision: str = Field("", description="only runs in this precision, e.g. bfloat16")
    licence: str = Field("", description="licence of the ranked commit (case-insensitive)")
    hide_flagged: str = Field("", description="1 (or true): leave out models with an open flag")
    hide_not_comparable: str = Field(
        "", description="1 (or true): leave out models with claims no run can settle"
    )
    hide_provenance: str = Field(
        "",
        description="1 (or true): leave out models with an open provenance flag (weights "
        "replaced after claims were made on them, weights unlike the named base, a hosted "
        "endpoint unlike the weights)",
    )
    q: str = Field(
        "",
        description="only models whose repo id contains this text (any case); ranks stay "
        "those of the list without it",
    )
    sort: str = Field(
        "", description="average (default), name, params or a benchmark key of the suite"
    )
    order: str = Field("", description="asc or desc; by default names A→Z, numbers best first")


# django-ninja answers input its schemas refuse (a malformed body, a query or path value of
# the wrong type or out of bounds) with 422 and pydantic's list of errors; the document says
# so for every operation that takes input.
INVALID_INPUT_RESPONSE: dict[str, Any] = {
    "description": "Unprocessable Content: the input does not match the schema",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "detail": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["type", "loc", "msg"],
                            "properties": {
                                "type": {"type": "string"},
                                "loc": {"type": "array"},
                                "msg": {"type": "string"},
                            },
                        },
                    }
                },
            }
        }
    },
}


def document_invalid_input(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the 422 answer to each operation with parameters or a body (in place)."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if operation.get("parameters") or operation.get("requestBody"):
                operation.setdefault("responses", {}).setdefault("422", INVALID_INPUT_RESPONSE)
    return schema


class EndpointCheckOut(Schema):
    id: int
    verdict: str = Field(..., description="consistent, differs, misconfigured or inconclusive")
    summary: str
    commit_sha: str | None = Field(None, description="the released weights' commit compared")
    weights_run_id: int | None = Field(None, description="the run whose items are paired")
    started_at: datetime
    finished_at: datetime
    error: str
    evidence: dict[str, Any] = Field(
        ...,
        description="preflight (key, title, passed, detail), mmd (statistic, p_value, prompts, "
        "samples_a: endpoint, samples_b: weights, permutations), scores (benchmark, metric, "
        "filter, n, endpoint, weights, difference, half_width_95), settings",
    )
    flag_id: int | None = Field(None, description="set when the check found a difference")


class HostedEndpointOut(Schema):
    kind: str = Field(..., description="hosted-endpoint")
    base_url: str
    served_model: str
    api_kind: str = Field(..., description="completions or chat")
    has_secret: bool = Field(..., description="an API key is stored (never returned)")
    registered_at: datetime
    registered_as: str = Field(..., description="author or moderator")
    retired_at: datetime | None
    checks: list[EndpointCheckOut] = Field(..., description="newest first")


class EndpointIn(Schema):
    base_url: str = Field(..., max_length=500, description="the API root, e.g. https://host/v1")
    served_model: str = Field(..., max_length=200, description="the model name the API expects")
    api_kind: str = Field("completions", description="completions or chat")
    secret: str = Field(
        "", max_length=4000, description="the API key, if any: stored encrypted, never returned"
    )
