"""Moderators' actions on evaluation runs, for the audit log."""

from __future__ import annotations

from django.db import models


class RunAction(models.Model):
    """A moderator cancels a run or retries it as a new run. Append-only: who, when, why."""

    class Action(models.TextChoices):
        CANCEL = "cancel-run", "Run cancelled"
        RETRY = "retry-run", "Run retried"

    run = models.ForeignKey(
        "evaluations.EvaluationRun", on_delete=models.PROTECT, related_name="actions"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.TextField()
    actor = models.CharField(max_length=200)
    state_before = models.CharField(max_length=12)
    new_run = models.ForeignKey(
        "evaluations.EvaluationRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retried_from",
        help_text="the new run a retry queued",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} run {self.run_id} by {self.actor}"
