"""Lineage: do a model's weights come from the base its card names?

``LineageCheck`` records one check of one evaluated commit against the named base and the
catalogue's candidates that share its shapes: the verdict, the evidence (config diff rows,
per-tensor measures per candidate) and the bytes read against the weights' size. Append-only:
a new check is a new row. ``LineageBaseAction`` records a moderator adding a base to the
candidate catalogue, or retiring one (the settings' list plus these actions is the catalogue).
"""

from __future__ import annotations

from django.db import models

from evaluations.lineage import Verdict
from evaluations.models.repos import ModelRepo, Revision


class LineageVerdict(models.TextChoices):
    CONSISTENT = Verdict.CONSISTENT, "consistent with the named base"
    CLOSER_TO_OTHER = Verdict.CLOSER_TO_OTHER, "closer to another candidate than to the named base"
    UNRELATED = Verdict.UNRELATED, "unrelated to the named base"
    INCONCLUSIVE = Verdict.INCONCLUSIVE, "inconclusive"
    NO_NAMED_BASE = Verdict.NO_NAMED_BASE, "no base named"


class LineageCheck(models.Model):
    """One lineage check of an evaluated commit. Append-only."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="lineage_checks")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="lineage_checks")
    named_bases = models.JSONField(default=list, help_text="the bases the card names")
    candidates = models.JSONField(default=list, help_text="every base compared or tried")
    verdict = models.CharField(max_length=16, choices=LineageVerdict.choices)
    summary = models.TextField()
    closer_to = models.CharField(max_length=200, blank=True)
    # {"candidates": [{hub_id, named, commit_sha, status, detail, config_diff: [row],
    #   tensors: [{name, shape, rows_compared, cosine, relative_difference, effective_rank,
    #   rank_fraction}], cosine, difference, relation}], "settings": {...}}
    evidence = models.JSONField(default=dict)
    bytes_read = models.BigIntegerField(default=0)
    weights_bytes = models.BigIntegerField(default=0, help_text="the model's safetensors size")
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"lineage of {self.repo.hub_id}@{self.revision.commit_sha[:10]}: {self.verdict}"

    @property
    def is_alarm(self) -> bool:
        return self.verdict in (LineageVerdict.CLOSER_TO_OTHER, LineageVerdict.UNRELATED)

    @property
    def read_share(self) -> float | None:
        """Bytes read as a share of the model's weights."""
        return self.bytes_read / self.weights_bytes if self.weights_bytes else None


class LineageBaseAction(models.Model):
    """A moderator adds a base to the lineage candidates, or retires one. Append-only."""

    class Action(models.TextChoices):
        ADD = "add-base", "Lineage base added"
        RETIRE = "retire-base", "Lineage base retired"

    hub_id = models.CharField(max_length=200)
    action = models.CharField(max_length=12, choices=Action.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.hub_id} by {self.actor}"
