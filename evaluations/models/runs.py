"""Submissions, the evaluation runs that carry them out, and what a run measured: its scores
and the files it produced (raw results, per-sample outputs, the log)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils import timezone

from evaluations.catalogue import BENCHMARKS, SUITES
from evaluations.errors import REFUSAL_CODES, is_refusal, message_for, reason_for
from evaluations.models.repos import ModelRepo, Revision


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

    def in_flight(self) -> EvaluationRunQuerySet:
        """Runs a worker is on: fetching, running or recording (not queued, not final)."""
        return self.filter(state__in=ACTIVE_STATES)

    def finished_ok(self) -> EvaluationRunQuerySet:
        return self.filter(state=RunState.FINISHED, duplicate_of__isnull=True)

    def refused(self) -> EvaluationRunQuerySet:
        """Runs refused before evaluation (see ``evaluations.errors.REFUSAL_CODES``)."""
        return self.filter(state=RunState.FAILED, error_code__in=REFUSAL_CODES)

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
    def error_reason(self) -> str:
        """The error's sentence with its detail (a refusal's limit, say)."""
        return reason_for(self.error_code, self.error_detail) if self.error_code else ""

    @property
    def is_refused(self) -> bool:
        """Failed before evaluation because the repo was refused: shown as refused."""
        return self.state == RunState.FAILED and is_refusal(self.error_code)

    @property
    def shown_state(self) -> str:
        """The state as pages and the API name it: "refused" and "duplicate" are failed and
        finished runs that evaluated nothing."""
        if self.is_refused:
            return "refused"
        return "duplicate" if self.duplicate_of_id else self.state

    @property
    def state_label(self) -> str:
        if self.is_refused:
            return "Refused"
        if self.duplicate_of_id:
            return f"Duplicate of run #{self.duplicate_of_id}"
        return self.get_state_display()

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


class ScoreQuerySet(models.QuerySet["Score"]):
    def measured(self) -> ScoreQuerySet:
        """Scores of runs that finished and are no duplicate: what the site calls measured."""
        return self.filter(run__in=EvaluationRun.objects.finished_ok())

    def of_repos(self, repo_ids: Iterable[int]) -> ScoreQuerySet:
        return self.filter(run__submission__repo_id__in=repo_ids)


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

    objects = ScoreQuerySet.as_manager()

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
