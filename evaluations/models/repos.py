"""Repos on the hub, the commits of them the worker inspected, and moderators' decisions to
hide a repo from the rankings or show it again."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from evaluations.errors import NOT_FOUND_CODES, REFUSAL_CODES


class ModelRepoQuerySet(models.QuerySet["ModelRepo"]):
    def resolved(self) -> ModelRepoQuerySet:
        """Repos the hub has shown us: a worker pinned a run of them to a commit (a
        ``Revision``), or refused one for what the hub showed (too large, custom code…). The
        others (a typo, a private repo, a bad ref) stay off the public lists; their
        submissions and claims stay on record."""
        return self.filter(_shown_by_the_hub())

    def with_resolved(self) -> ModelRepoQuerySet:
        """Each repo with whether ``resolved`` keeps it (``is_resolved``), read in the same
        query as the repo: a page that looks a repo up needs no second one."""
        shown = models.ExpressionWrapper(_shown_by_the_hub(), output_field=models.BooleanField())
        return self.annotate(resolved_flag=shown)

    def with_presence(self) -> ModelRepoQuerySet:
        """Each repo with whether it has any re-upload event (``has_reuploads``), lineage
        check, hosted endpoint, moderator decision, flag event and run artifact, read in the
        same query as the repo: most repos have none, and the model page then reads none of
        them."""
        return self.annotate(
            has_reuploads=_any_of_repo("ProvenanceEvent"),
            has_lineage_checks=_any_of_repo("LineageCheck"),
            has_endpoints=_any_of_repo("HostedEndpoint"),
            has_decisions=_any_of_repo("RepoDecision"),
            has_flag_events=_any_of_repo("FlagEvent", "flag__claim__repo"),
            has_artifacts=_any_of_repo("RunArtifact", "run__submission__repo"),
        )


def _any_of_repo(model: str, repo: str = "repo") -> models.Exists:
    # By name, as below: these models sit above repos in the model modules.
    rows = apps.get_model("evaluations", model)._default_manager
    return models.Exists(rows.filter(**{repo: models.OuterRef("pk")}))


def _shown_by_the_hub() -> models.Q:
    # By name, as foreign keys name models: runs sit above repos in the model modules.
    runs = apps.get_model("evaluations", "EvaluationRun").objects
    refused_on_sight = runs.filter(
        submission__repo=models.OuterRef("pk"),
        error_code__in=REFUSAL_CODES - NOT_FOUND_CODES,
    )
    pinned = Revision.objects.filter(repo=models.OuterRef("pk"))
    return models.Q(models.Exists(pinned)) | models.Q(models.Exists(refused_on_sight))


class ModelRepo(models.Model):
    """A repository on the hub, by its id (``org/name``)."""

    hub_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ModelRepoQuerySet.as_manager()

    class Meta:
        ordering = ["hub_id"]

    def __str__(self) -> str:
        return self.hub_id

    @property
    def is_resolved(self) -> bool:
        known: bool | None = getattr(self, "resolved_flag", None)  # from ``with_resolved``
        if known is not None:
            return known
        return ModelRepo.objects.resolved().filter(pk=self.pk).exists()


class Revision(models.Model):
    """One commit of a repo, as the worker inspected it before downloading weights."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="revisions")
    commit_sha = models.CharField(max_length=40)
    files = models.JSONField(default=list, help_text="[{path, size, sha256}] at this commit")
    parameter_count = models.BigIntegerField(null=True, blank=True)
    dtype = models.CharField(max_length=16, blank=True)
    licence = models.CharField(max_length=100, blank=True)
    model_type = models.CharField(max_length=100, blank=True)
    card_text = models.TextField(
        blank=True, help_text="the model card's text (README.md after its front matter), capped"
    )
    inspected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "commit_sha"], name="unique_repo_commit")
        ]
        ordering = ["-inspected_at"]

    def __str__(self) -> str:
        return f"{self.repo.hub_id}@{self.commit_sha[:10]}"


class RepoDecisionQuerySet(models.QuerySet["RepoDecision"]):
    def newest_first(self) -> RepoDecisionQuerySet:
        """The latest decision first: it is the one in force."""
        return self.order_by("-created_at", "-id")


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

    objects = RepoDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.repo.hub_id} by {self.actor}"
