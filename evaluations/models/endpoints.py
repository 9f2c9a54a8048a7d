"""Hosted endpoints: is the API that says it serves a model serving the released weights?

``HostedEndpoint`` is an OpenAI-compatible endpoint an author or a moderator registered for a
repo. Its secret (an API key) is stored encrypted (``evaluations.endpoint_secrets``), never shown
back; retiring it is the one change made in place. ``EndpointCheck`` records one comparison of
the endpoint with the released weights at the commit evaluated: the pre-flight checks, the
two-sample equality test on sampled completions, the paired score differences, and the verdict.
Checks are append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from evaluations.models.repos import ModelRepo, Revision


class ApiKind(models.TextChoices):
    COMPLETIONS = "completions", "completions (/v1/completions)"
    CHAT = "chat", "chat completions (/v1/chat/completions)"


class HostedEndpoint(models.Model):
    repo = models.ForeignKey(ModelRepo, on_delete=models.PROTECT, related_name="endpoints")
    base_url = models.URLField(max_length=500, help_text="the API root, e.g. https://host/v1")
    served_model = models.CharField(max_length=200, help_text="the model name the API expects")
    api_kind = models.CharField(max_length=12, choices=ApiKind.choices)
    secret_encrypted = models.TextField(blank=True, help_text="Fernet token; empty: no key")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_endpoints",
    )
    registered_as = models.CharField(max_length=12, help_text="author or moderator")
    registered_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.repo.hub_id} served at {self.base_url} as {self.served_model}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)


class EndpointVerdict(models.TextChoices):
    CONSISTENT = "consistent", "consistent with the released weights"
    DIFFERS = "differs", "differs from the released weights"
    MISCONFIGURED = "misconfigured", "misconfigured"
    INCONCLUSIVE = "inconclusive", "inconclusive"


class EndpointCheck(models.Model):
    """One comparison of an endpoint with the released weights. Append-only."""

    endpoint = models.ForeignKey(HostedEndpoint, on_delete=models.PROTECT, related_name="checks")
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="endpoint_checks",
        help_text="the commit of the released weights compared",
    )
    weights_run = models.ForeignKey(
        "evaluations.EvaluationRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="endpoint_checks",
        help_text="the run of the weights whose per-item results are paired",
    )
    verdict = models.CharField(max_length=14, choices=EndpointVerdict.choices)
    summary = models.TextField(help_text="the verdict in one or two sentences, with numbers")
    # {"preflight": [{key, title, passed, detail}], "mmd": {statistic, p_value, ...},
    #  "scores": [{benchmark, metric, n, endpoint, weights, difference, half_width_95}],
    #  "settings": {samples, temperature, max_tokens, seed, prompts}}
    evidence = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-finished_at", "-id"]

    def __str__(self) -> str:
        return f"check of endpoint {self.endpoint_id}: {self.verdict}"
