"""The domain's rows: repos, revisions, submissions, evaluation runs, scores, artifacts.

Measurements are never updated in place: a new run is a new row, and a run's scores are
written once, when it is recorded. What a page shows as "current" is derived from them.
State changes go through ``evaluations.services``; nothing here has business logic.
On PostgreSQL the append-only tables (scores, artifacts, claims, flags and the rows that record
decisions) refuse UPDATE and DELETE themselves: see migration 0011 for the list and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from evaluations.catalogue import BENCHMARKS, SUITES
from evaluations.errors import message_for


class ModelRepo(models.Model):
    """A repository on the hub, by its id (``org/name``)."""

    hub_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hub_id"]

    def __str__(self) -> str:
        return self.hub_id


class Revision(models.Model):
    """One commit of a repo, as the worker inspected it before downloading weights."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="revisions")
    commit_sha = models.CharField(max_length=40)
    files = models.JSONField(default=list, help_text="[{path, size, sha256}] at this commit")
    parameter_count = models.BigIntegerField(null=True, blank=True)
    dtype = models.CharField(max_length=16, blank=True)
    licence = models.CharField(max_length=100, blank=True)
    model_type = models.CharField(max_length=100, blank=True)
    inspected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "commit_sha"], name="unique_repo_commit")
        ]
        ordering = ["-inspected_at"]

    def __str__(self) -> str:
        return f"{self.repo.hub_id}@{self.commit_sha[:10]}"


class Precision(models.TextChoices):
    AUTO = "auto", "auto (the checkpoint's dtype)"
    BFLOAT16 = "bfloat16", "bfloat16"
    FLOAT16 = "float16", "float16"
    FLOAT32 = "float32", "float32"


class Backend(models.TextChoices):
    HF = "hf", "transformers (CPU or GPU)"
    VLLM = "vllm", "vLLM (GPU)"


class Submission(models.Model):
    """A request to evaluate a repo at a ref with one suite and setting."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="submissions")
    ref = models.CharField(max_length=255, default="main", help_text="as the submitter typed it")
    suite = models.CharField(max_length=40, choices=[(s, s) for s in SUITES])
    backend = models.CharField(max_length=10, choices=Backend.choices, default=Backend.HF)
    precision = models.CharField(max_length=10, choices=Precision.choices, default="auto")
    chat_template = models.BooleanField(default=False)
    # A claim-matched run evaluates only some benchmarks, in the setting a claim names:
    # [{"benchmark": key, "shots": n}]. Empty: the whole suite in the catalogue's setting.
    tasks = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        help_text="empty: queued by the site (a claim-matched run)",
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"{self.repo.hub_id}@{self.ref} ({self.suite})"

    @property
    def is_whole_suite(self) -> bool:
        """The whole suite in the catalogue's setting, not a claim-matched run."""
        return not self.tasks


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    FETCHING = "fetching", "Fetching from the hub"
    RUNNING = "running", "Evaluating"
    RECORDING = "recording", "Recording results"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATES = frozenset({RunState.FINISHED, RunState.FAILED, RunState.CANCELLED})
ACTIVE_STATES = frozenset({RunState.FETCHING, RunState.RUNNING, RunState.RECORDING})


class EvaluationRunQuerySet(models.QuerySet["EvaluationRun"]):
    def active(self) -> EvaluationRunQuerySet:
        return self.exclude(state__in=FINAL_STATES)

    def finished_ok(self) -> EvaluationRunQuerySet:
        return self.filter(state=RunState.FINISHED, duplicate_of__isnull=True)

    def whole_suite(self) -> EvaluationRunQuerySet:
        """Runs of the whole suite in the catalogue's setting (not claim-matched ones)."""
        return self.filter(submission__tasks=[])


class EvaluationRun(models.Model):
    """One attempt to evaluate a submission. A retry is a new run."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="runs")
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="runs", null=True, blank=True
    )
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.QUEUED)
    queue = models.CharField(max_length=20, default="cpu")
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text="set when this commit was already evaluated with the same setting",
    )
    # How it ended.
    error_code = models.CharField(max_length=60, blank=True)
    error_detail = models.TextField(blank=True)
    log_tail = models.TextField(blank=True)
    # Who runs it, and whether it is alive.
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker_name = models.CharField(max_length=200, blank=True)
    backend_used = models.CharField(max_length=10, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # What it ran with: lm-eval, transformers/vLLM, torch, Python, per-task versions and
    # config hashes.
    versions = models.JSONField(default=dict, blank=True)
    deliberate_rerun = models.BooleanField(
        default=False, help_text="a moderator asked for it again: never ended as a duplicate"
    )
    card_import_note = models.TextField(
        blank=True, help_text="why the commit's card claims were not all imported, if so"
    )

    objects = EvaluationRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "queue", "created_at"]),
            models.Index(fields=["-created_at"], name="run_newest_first"),  # recent runs
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == RunState.FINISHED

    @property
    def error_message(self) -> str:
        return message_for(self.error_code) if self.error_code else ""

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()

    @property
    def progress_percent(self) -> int:
        if self.state == RunState.FINISHED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))


class Score(models.Model):
    """One measured number of a run: written once when the run is recorded."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, related_name="scores")
    benchmark = models.CharField(max_length=40, choices=[(k, k) for k in BENCHMARKS])
    task = models.CharField(max_length=100)
    metric = models.CharField(max_length=60)
    filter = models.CharField(max_length=60)
    shots = models.PositiveSmallIntegerField()
    value = models.FloatField(help_text="a raw fraction in [0, 1]")
    stderr = models.FloatField(null=True, blank=True, help_text="None where lm-eval gave N/A")
    n_samples = models.PositiveIntegerField(null=True, blank=True)
    # The run health figures for this benchmark, measured on the per-sample outputs (see
    # evaluations.evidence.health): generations, truncated, unparsed, strict_flexible_gap.
    health = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "benchmark"], name="unique_run_benchmark")
        ]
        ordering = ["benchmark"]

    def __str__(self) -> str:
        return f"{self.benchmark}={self.value:.4f}"

    @property
    def display_name(self) -> str:
        benchmark = BENCHMARKS.get(self.benchmark)
        return benchmark.display_name if benchmark else self.benchmark


class RunArtifact(models.Model):
    """A file a run produced (raw results, per-sample outputs, the log), with its sha256."""

    class Kind(models.TextChoices):
        RESULTS = "results", "lm-eval results (JSON)"
        SAMPLES = "samples", "per-sample outputs (JSONL)"
        LOG = "log", "evaluation log"

    run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, related_name="artifacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    path = models.CharField(max_length=500, help_text="relative to ARTIFACTS_DIR")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "kind"], name="unique_run_artifact_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of run {self.run_id}"


class ClaimSource(models.TextChoices):
    SUBMISSION = "submission", "entered with a submission"
    API = "api", "sent through the API"
    MODEL_CARD = "model-card", "the model card's model-index"
    EVAL_RESULTS = "eval-results", "the repo's .eval_results files"
    THIRD_PARTY = "third-party", "reported by a third party"
    EVERY_EVAL_EVER = "every-eval-ever", "the author's Every Eval Ever record"


class Unit(models.TextChoices):
    PERCENT = "percent", "percent (0–100)"
    FRACTION = "fraction", "fraction (0–1)"
    NORMALISED = "normalised", "normalised above the random baseline (0–100)"


class ClaimQuerySet(models.QuerySet["Claim"]):
    def current(self) -> ClaimQuerySet:
        """Claims no later claim supersedes."""
        return self.filter(superseded_by__isnull=True)


class Claim(models.Model):
    """A score someone says a model gets. Never edited: a correction is a new row that
    supersedes this one, and both stay on the record."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="claims")
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        help_text="the commit the claim is about; empty = the model in general (latest commit)",
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    batch = models.UUIDField(help_text="claims entered together: one family for Holm")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # What is claimed, in which setting.
    benchmark = models.CharField(max_length=40, blank=True, help_text="catalogue key, if known")
    label = models.CharField(max_length=300, help_text="the benchmark as the claim names it")
    metric = models.CharField(max_length=100, blank=True)
    filter = models.CharField(max_length=60, blank=True)
    shots = models.PositiveSmallIntegerField(null=True, blank=True)
    chat_template = models.BooleanField(null=True, blank=True)
    chain_of_thought = models.BooleanField(null=True, blank=True)
    system_prompt = models.TextField(blank=True)
    value = models.FloatField(null=True, blank=True, help_text="raw fraction in [0, 1]")
    typed_value = models.CharField(max_length=100, help_text="as typed or written in the card")
    unit = models.CharField(max_length=12, choices=Unit.choices, blank=True)
    unit_reason = models.CharField(max_length=300, blank=True)
    stated_stderr = models.FloatField(null=True, blank=True, help_text="fraction, if stated")
    not_comparable_reason = models.CharField(
        max_length=300, blank=True, help_text="why it can never be compared, if so"
    )
    # Where it comes from, and who says it.
    source = models.CharField(max_length=20, choices=ClaimSource.choices)
    source_url = models.URLField(max_length=500, blank=True)
    source_name = models.CharField(max_length=200, blank=True)
    reported_by = models.CharField(max_length=200, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        help_text="the account that recorded it; empty for imports",
    )
    inherited_from = models.CharField(max_length=200, blank=True)
    # What a hub .eval_results entry adds: the benchmark dataset it names, and its provenance.
    source_org = models.CharField(max_length=200, blank=True)
    source_ref = models.CharField(
        max_length=100, blank=True, help_text="the hub ref read, if not the commit: refs/pr/N"
    )
    dataset_id = models.CharField(max_length=200, blank=True, help_text="hub benchmark dataset")
    dataset_task_id = models.CharField(max_length=200, blank=True)
    dataset_revision = models.CharField(max_length=64, blank=True)
    verify_token = models.TextField(blank=True, help_text="the hub's token, stored unchecked")
    result_date = models.DateField(null=True, blank=True, help_text="when it was evaluated")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["repo", "benchmark"])]

    def __str__(self) -> str:
        return f"{self.label} = {self.typed_value} ({self.repo.hub_id})"


class FlagState(models.TextChoices):
    # Set by the rule (no actor).
    OPENED = "opened", "Open"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    # The test would flag, but the run's health check failed: never public, a moderator
    # decides (confirming makes it a public flag).
    IN_DOUBT = "in-doubt", "Harness in doubt"
    # Set by a moderator (actor and reason required). A decision outranks the rule's state.
    CONFIRMED = "confirmed", "Confirmed by a moderator"
    DISMISSED = "dismissed", "Dismissed by a moderator"
    AUTHOR_ASKED = "author-asked", "Author asked to respond"


AUTOMATIC_STATES = frozenset(
    {FlagState.OPENED, FlagState.RESOLVED, FlagState.REOPENED, FlagState.IN_DOUBT}
)
# The rule's states that put a flag in the moderators' queue.
QUEUE_STATES = frozenset({FlagState.OPENED, FlagState.REOPENED, FlagState.IN_DOUBT})
DECISION_STATES = frozenset({FlagState.CONFIRMED, FlagState.DISMISSED})


class Flag(models.Model):
    """A claim the measurement contradicts. Its state is the latest of its events."""

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="flag")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"flag on claim {self.claim_id}"


class FlagEvent(models.Model):
    """Every state a flag passes through, with the numbers it was based on. Append-only."""

    flag = models.ForeignKey(Flag, on_delete=models.PROTECT, related_name="events")
    state = models.CharField(max_length=14, choices=FlagState.choices)
    severity = models.CharField(max_length=8, blank=True)
    reason = models.TextField(help_text="one sentence with the numbers")
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.PROTECT, null=True, blank=True, related_name="flag_events"
    )
    evidence = models.JSONField(default=dict, help_text="c, m, stderrs, z, p, Holm p, q, tolerance")
    actor = models.CharField(max_length=200, blank=True, help_text="empty: the automatic rule")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.state} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        return self.state in (FlagState.OPENED, FlagState.REOPENED)

    @property
    def badge(self) -> str:
        """The verdict badge the event's state is shown with."""
        if self.is_open:
            return "contradicted"
        return "harness-in-doubt" if self.state == FlagState.IN_DOUBT else "resolved"

    @property
    def is_moderation(self) -> bool:
        return self.state not in AUTOMATIC_STATES


class RepoDecision(models.Model):
    """A moderator hides a model from the rankings or shows it again. Append-only: the
    latest decision for a repo is in force."""

    class Action(models.TextChoices):
        HIDE = "hide", "Hidden from rankings"
        UNHIDE = "unhide", "Shown in rankings again"

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.repo.hub_id} by {self.actor}"


class RankingEntry(models.Model):
    """A read table: one repo's latest whole-suite run in a suite, with what the rankings
    filter and sort on. Derived from the rows above and rewritten by
    ``services.read_models`` whenever they change; never edited by hand."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="ranking_entries")
    suite = models.CharField(max_length=40)
    # "" for the latest run of any precision; a precision for the latest run in it.
    precision_scope = models.CharField(max_length=10, blank=True)
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="+")
    hub_id = models.CharField(max_length=200)
    parameter_count = models.BigIntegerField(null=True, blank=True)
    precision = models.CharField(max_length=10)
    licence = models.CharField(max_length=100, blank=True)
    average = models.FloatField(help_text="normalised above the random baseline, 0–100")
    raw_average = models.FloatField()
    average_stderr = models.FloatField(help_text="of the average, in normalised points")
    scores = models.JSONField(default=dict, help_text="{benchmark: {value, stderr}}, raw")
    flagged = models.BooleanField(default=False)
    severity = models.CharField(max_length=8, blank=True, help_text="the worst open flag's")
    not_comparable = models.BooleanField(default=False)
    verdict = models.CharField(max_length=20, blank=True, help_text="the worst claim's")
    hidden = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repo", "suite", "precision_scope"], name="unique_ranking_entry"
            )
        ]
        indexes = [
            models.Index(
                "suite",
                "precision_scope",
                "hidden",
                models.F("average").desc(),
                "hub_id",
                name="ranking_entry_by_average",
            ),
            models.Index(
                "suite", "precision_scope", "hidden", Lower("hub_id"), name="ranking_entry_by_name"
            ),
            models.Index(
                fields=["suite", "precision_scope", "hidden", "parameter_count"],
                name="ranking_entry_by_params",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hub_id} in {self.suite} ({self.average:.1f})"


class GenerationBump(models.Model):
    """One row per change to what the public pages show. The id of the newest row is the
    site's generation (``services.generation``); old rows are pruned, never edited."""

    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"generation {self.pk}"


# Accounts, discussions of flags and run actions live in their own modules; imported here so Django
# registers them.
from evaluations.account_models import ApiToken, HubMembership  # noqa: E402, F401
from evaluations.audit_models import RunAction  # noqa: E402, F401
from evaluations.discussion_models import Comment, FlagAction  # noqa: E402, F401
