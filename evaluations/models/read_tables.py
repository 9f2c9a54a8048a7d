"""Rows derived from the others for the public pages: the rankings' read table and the
site's generation, which page caches are keyed on."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from evaluations.models.repos import ModelRepo
from evaluations.models.runs import EvaluationRun


class RankingEntry(models.Model):
    """A read table: one repo's latest whole-suite run in a suite, with what the rankings
    filter and sort on. Derived from its runs, scores, claims, flags and decisions, and
    rewritten by ``services.read_models`` whenever they change; never edited by hand."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="ranking_entries")
    suite = models.CharField(max_length=40)
    # "" for the latest run of any precision; a precision for the latest run in it.
    precision_scope = models.CharField(max_length=10, blank=True)
    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="+")
    hub_id = models.CharField(max_length=200)
    parameter_count = models.BigIntegerField(null=True, blank=True)
    precision = models.CharField(max_length=10)
    # The ranked run's commit (the row links it), kept here so a page of rows joins nothing.
    commit_sha = models.CharField(max_length=40, blank=True)
    licence = models.CharField(max_length=100, blank=True)
    average = models.FloatField(help_text="normalised above the random baseline, 0–100")
    raw_average = models.FloatField()
    average_stderr = models.FloatField(help_text="of the average, in normalised points")
    scores = models.JSONField(default=dict, help_text="{benchmark: {value, stderr}}, raw")
    flagged = models.BooleanField(default=False)
    severity = models.CharField(max_length=8, blank=True, help_text="the worst open flag's")
    not_comparable = models.BooleanField(default=False)
    provenance_flagged = models.BooleanField(
        default=False, help_text="an open flag on where the weights come from (a re-upload...)"
    )
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
    site's generation (``evaluations.generation``); old rows are pruned, never edited."""

    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"generation {self.pk}"
