"""Claims (scores someone says a model gets) and the flags raised on the claims a measurement
contradicts, with every state a flag passes through."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from evaluations.models.repos import ModelRepo, Revision
from evaluations.models.runs import EvaluationRun, Submission


class ClaimSource(models.TextChoices):
    SUBMISSION = "submission", "entered with a submission"
    API = "api", "sent through the API"
    MODEL_CARD = "model-card", "the model card's model-index"
    EVAL_RESULTS = "eval-results", "the repo's .eval_results files"
    THIRD_PARTY = "third-party", "reported by a third party"
    EVERY_EVAL_EVER = "every-eval-ever", "the author's Every Eval Ever record"
    SITE = "site", "corrected or withdrawn on the model's page"


class Unit(models.TextChoices):
    PERCENT = "percent", "percent (0–100)"
    FRACTION = "fraction", "fraction (0–1)"
    NORMALISED = "normalised", "normalised above the random baseline (0–100)"


class ClaimQuerySet(models.QuerySet["Claim"]):
    def current(self) -> ClaimQuerySet:
        """Claims no later claim supersedes, and not a withdrawal (which supersedes a claim
        to take it back, and claims nothing itself)."""
        return self.filter(superseded_by__isnull=True, withdrawn=False)


class Claim(models.Model):
    """A score someone says a model gets. Never edited: a correction is a new row that
    supersedes this one, and both stay on the record. A withdrawal is a new row too: it
    supersedes the claim, repeats its setting, and claims no value (``withdrawn``)."""

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
    withdrawn = models.BooleanField(
        default=False, help_text="this row takes back the claim it supersedes"
    )
    note = models.CharField(
        max_length=500,
        blank=True,
        help_text="why it was corrected or withdrawn, as its author said",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["repo", "benchmark"])]

    def __str__(self) -> str:
        return f"{self.label} = {self.typed_value} ({self.repo.hub_id})"

    @property
    def from_hub_results(self) -> bool:
        """Read from a hub ``.eval_results`` entry, which names its dataset or its source."""
        return bool(self.dataset_id or self.source_ref or self.source_org)

    def correctable_by(self, user_id: int | None, *, author: bool, moderator: bool) -> bool:
        """Who may correct or withdraw this claim: a third-party claim its reporter (or a
        moderator), any other claim an author of the repo. The services enforce it, asking
        the hub again; pages use it to offer the forms."""
        if self.source == ClaimSource.THIRD_PARTY:
            return self.reporter_id == user_id or moderator
        return author


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


class FlagKind(models.TextChoices):
    SCORE_GAP = "score-gap", "Claim contradicted by the measurement"
    WEIGHTS_REPLACED = "weights-replaced", "Weights replaced after evaluation"
    LINEAGE = "lineage", "Weights unlike the base the card names"
    ENDPOINT = "endpoint", "Hosted endpoint differs from the released weights"


# A flag of any kind but a score gap is about where the model comes from, not about a claim:
# the rankings can hide the models it stands on.
PROVENANCE_FLAG_KINDS = (FlagKind.WEIGHTS_REPLACED, FlagKind.LINEAGE, FlagKind.ENDPOINT)
# The repo a flag is about, through each of its possible subjects (the first that is set).
FLAG_SUBJECT_REPOS = (
    "claim__repo_id",
    "provenance_event__repo_id",
    "lineage_check__repo_id",
    "endpoint_check__endpoint__repo_id",
)


class Flag(models.Model):
    """A claim the measurement contradicts (a score gap), weights replaced on the hub after
    claims were made on the commit evaluated (a provenance event), or weights unlike the base
    the card names (a lineage check). Its state is the latest of its events."""

    kind = models.CharField(max_length=20, choices=FlagKind.choices, default=FlagKind.SCORE_GAP)
    claim = models.OneToOneField(
        Claim,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag",
        help_text="the contradicted claim (a score gap)",
    )
    provenance_event = models.OneToOneField(
        "evaluations.ProvenanceEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag",
        help_text="the re-upload (weights replaced after evaluation)",
    )
    lineage_check = models.OneToOneField(
        "evaluations.LineageCheck",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag",
        help_text="the lineage check whose verdict opened it",
    )
    endpoint_check = models.OneToOneField(
        "evaluations.EndpointCheck",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag",
        help_text="the check that found a hosted endpoint differs from the released weights",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(claim__isnull=False)
                | models.Q(provenance_event__isnull=False)
                | models.Q(lineage_check__isnull=False)
                | models.Q(endpoint_check__isnull=False),
                name="flag_has_a_subject",
            )
        ]

    def __str__(self) -> str:
        if self.lineage_check_id is not None:
            return f"flag on lineage check {self.lineage_check_id}"
        if self.endpoint_check_id is not None:
            return f"flag on endpoint check {self.endpoint_check_id}"
        if self.claim_id is None:
            return f"flag on provenance event {self.provenance_event_id}"
        return f"flag on claim {self.claim_id}"

    @property
    def repo(self) -> ModelRepo:
        """The model the flag is about, whichever its subject."""
        if self.claim is not None:
            return self.claim.repo
        if self.lineage_check is not None:
            return self.lineage_check.repo
        if self.endpoint_check is not None:
            return self.endpoint_check.endpoint.repo
        assert self.provenance_event is not None  # the check constraint holds one subject
        return self.provenance_event.repo


class FlagEventQuerySet(models.QuerySet["FlagEvent"]):
    def from_rule(self) -> FlagEventQuerySet:
        """The automatic rule's events, without the moderators' beside them."""
        return self.filter(state__in=AUTOMATIC_STATES)

    def newest_first(self) -> FlagEventQuerySet:
        return self.order_by("-created_at", "-id")


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

    objects = FlagEventQuerySet.as_manager()

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
