"""Provenance: is the model on the hub still the one that was measured?

``RepoWatch`` is the re-upload watch's bookmark for one repo: which ref it follows, when it
last asked the hub and what the hub said (moved forward in place, like a run's state).
``ProvenanceEvent`` records what the watch found: the ref now names another commit than the one
evaluated, with the files that changed. Events are append-only.

Later signals (lineage against a named base, a hosted endpoint) add their own kinds here.
"""

from __future__ import annotations

from django.db import models

from evaluations.models.repos import ModelRepo, Revision

# What decides a re-evaluation: a file the model load reads (weights, config, tokenizer).
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".gguf")
TOKENIZER_NAMES = ("tokenizer", "special_tokens_map", "vocab", "merges", "added_tokens")
TOKENIZER_SUFFIXES = (".model", ".jinja", ".tiktoken")


def file_kind(path: str) -> str:
    """``weights``, ``tokenizer``, ``config`` or ``other`` (a card, an image, code...)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(WEIGHT_SUFFIXES):
        return "weights"
    if name.startswith(TOKENIZER_NAMES) or name.endswith(TOKENIZER_SUFFIXES):
        return "tokenizer"
    if name.endswith(".json") and "/" not in path:
        return "config"
    return "other"


class WatchOutcome(models.TextChoices):
    UNCHANGED = "unchanged", "the ref still names the commit evaluated"
    NEW_COMMIT = "new-commit", "the ref names a new commit"
    REPO_GONE = "repo-gone", "the repo is gone or private"
    GATED = "gated", "the repo is gated now"
    REF_GONE = "ref-gone", "the ref no longer exists"
    HUB_UNREACHABLE = "hub-unreachable", "the hub could not be asked"
    HUB_ERROR = "hub-error", "the hub gave an answer the watch could not read"


class RepoWatch(models.Model):
    """The re-upload watch's bookmark for a repo: the beat asks the hub about the repos
    checked longest ago first, so a large catalogue is spread over many ticks."""

    repo = models.OneToOneField(ModelRepo, on_delete=models.PROTECT, related_name="watch")
    ref = models.CharField(max_length=255, default="main")
    checked_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=WatchOutcome.choices, blank=True)
    detail = models.TextField(blank=True)
    commit_sha = models.CharField(max_length=40, blank=True, help_text="what the ref named")

    class Meta:
        indexes = [models.Index(fields=["checked_at"])]

    def __str__(self) -> str:
        return f"watch {self.repo.hub_id}@{self.ref}: {self.outcome or 'not yet checked'}"


class ProvenanceEvent(models.Model):
    """The repo's ref moved to a new commit after the commit the site evaluated. Append-only:
    what changed, whether it was re-evaluated, and the flag it opened, all written at once."""

    class Kind(models.TextChoices):
        REUPLOAD = "re-upload", "Files replaced after evaluation"

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="provenance_events")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REUPLOAD)
    ref = models.CharField(max_length=255)
    old_revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="replaced_by_events"
    )
    new_commit_sha = models.CharField(max_length=40)
    new_commit_at = models.DateTimeField(
        null=True, blank=True, help_text="when the hub says the ref last changed"
    )
    detected_at = models.DateTimeField(auto_now_add=True)
    # {"added": [file], "removed": [file], "changed": [{"path", "kind", "before", "after"}]},
    # a file being {"path", "kind", "size", "sha256", "blob_id"}: metadata only.
    changes = models.JSONField(default=dict)
    weights_changed = models.BooleanField(default=False)
    reevaluated = models.BooleanField(
        default=False, help_text="a file the model load reads changed: the new commit is queued"
    )
    reevaluation = models.ForeignKey(
        "evaluations.EvaluationRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provenance_events",
        help_text="the run queued for the new commit",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repo", "old_revision", "new_commit_sha"], name="unique_provenance_move"
            )
        ]
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.repo.hub_id}: {self.old_revision.commit_sha[:10]} → {self.new_commit_sha[:10]}"
        )
