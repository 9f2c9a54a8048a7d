"""Admin for every row. Measurements are read-only here; actions go through services."""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from evaluations import services
from evaluations.models import (
    Claim,
    Comment,
    EvaluationRun,
    Flag,
    FlagAction,
    FlagEvent,
    ModelRepo,
    Revision,
    RunAction,
    RunArtifact,
    Score,
    Submission,
)
from evaluations.services.permissions import is_moderator

RowT = TypeVar("RowT", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[RowT]):
    """Rows that record what happened: viewable, never edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RowT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RowT | None = None) -> bool:
        return False


@admin.register(ModelRepo)
class ModelRepoAdmin(ReadOnlyAdmin[ModelRepo]):
    list_display = ["hub_id", "created_at"]
    search_fields = ["hub_id"]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin[Revision]):
    list_display = ["repo", "commit_sha", "parameter_count", "dtype", "licence", "inspected_at"]
    search_fields = ["repo__hub_id", "commit_sha"]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin[Submission]):
    list_display = ["repo", "ref", "suite", "backend", "precision", "chat_template", "submitted_at"]
    list_filter = ["suite", "backend", "precision"]
    search_fields = ["repo__hub_id", "ref"]


class ScoreInline(admin.TabularInline[Score, EvaluationRun]):
    model = Score
    extra = 0
    can_delete = False
    readonly_fields = [
        "benchmark",
        "task",
        "metric",
        "filter",
        "shots",
        "value",
        "stderr",
        "n_samples",
    ]

    def has_add_permission(self, request: HttpRequest, obj: EvaluationRun | None = None) -> bool:
        return False


class RunActionForm(ActionForm):
    """The admin's action bar, with the reason a cancel or retry goes on the record with."""

    reason = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="why (kept in the audit log)",
    )


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin[EvaluationRun]):
    list_display = [
        "id",
        "submission",
        "state",
        "queue",
        "worker_name",
        "error_code",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state", "queue", "error_code"]
    search_fields = ["submission__repo__hub_id", "celery_task_id", "revision__commit_sha"]
    inlines = [ScoreInline]
    action_form = RunActionForm
    actions = ["cancel_runs", "retry_runs"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        """Staff who may only look do not even see the actions; the services check again."""
        return is_moderator(request.user)

    @admin.action(description="Cancel the selected runs", permissions=["moderate"])
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[EvaluationRun]) -> None:
        reason = request.POST.get("reason", "")
        cancelled = 0
        for run in queryset:
            try:
                cancelled += services.run_cancel(run_id=run.id, user=request.user, reason=reason)
            except (PermissionDenied, ValidationError) as error:
                self.message_user(request, _first_message(error), messages.ERROR)
                return
        self.message_user(request, f"{cancelled} run(s) cancelled.")

    @admin.action(
        description="Retry the selected failed or cancelled runs (new runs)",
        permissions=["moderate"],
    )
    def retry_runs(self, request: HttpRequest, queryset: QuerySet[EvaluationRun]) -> None:
        reason = request.POST.get("reason", "")
        for run in queryset:
            try:
                new = services.run_retry(run_id=run.id, user=request.user, reason=reason)
                self.message_user(request, f"Run {run.id} retried as run {new.id}.")
            except PermissionDenied as error:
                self.message_user(request, _first_message(error), messages.ERROR)
                return
            except ValidationError as error:
                self.message_user(request, f"Run {run.id}: {error.messages[0]}", messages.WARNING)


def _first_message(error: PermissionDenied | ValidationError) -> str:
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin[Score]):
    list_display = ["run", "benchmark", "metric", "filter", "shots", "value", "stderr", "n_samples"]
    list_filter = ["benchmark"]


@admin.register(RunArtifact)
class RunArtifactAdmin(ReadOnlyAdmin[RunArtifact]):
    list_display = ["run", "kind", "path", "sha256", "size_bytes"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin[Claim]):
    list_display = [
        "id",
        "repo",
        "label",
        "typed_value",
        "unit",
        "shots",
        "source",
        "reported_by",
        "supersedes",
        "created_at",
    ]
    list_filter = ["source", "benchmark"]
    search_fields = ["repo__hub_id", "label", "reported_by"]


class FlagEventInline(admin.TabularInline[FlagEvent, Flag]):
    model = FlagEvent
    extra = 0
    can_delete = False
    readonly_fields = ("state", "severity", "reason", "run", "actor", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        return False


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin[Flag]):
    list_display = ["id", "claim", "created_at"]
    search_fields = ["claim__repo__hub_id", "claim__label"]
    inlines = [FlagEventInline]


@admin.register(FlagEvent)
class FlagEventAdmin(ReadOnlyAdmin[FlagEvent]):
    list_display = ["flag", "state", "severity", "run", "actor", "created_at"]
    list_filter = ["state", "severity"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin[Comment]):
    list_display = ["flag", "user_name", "role", "internal", "created_at"]
    list_filter = ["role", "internal"]
    search_fields = ["user_name", "body"]


@admin.register(FlagAction)
class FlagActionAdmin(ReadOnlyAdmin[FlagAction]):
    list_display = ["flag", "action", "actor", "state_before", "state_after", "run", "created_at"]
    list_filter = ["action"]


@admin.register(RunAction)
class RunActionAdmin(ReadOnlyAdmin[RunAction]):
    list_display = ["run", "action", "actor", "state_before", "new_run", "created_at"]
    list_filter = ["action"]
