"""What both directions share: the schema version, our source's names, the record error."""

from __future__ import annotations

SCHEMA_VERSION = "0.3.0"
SOURCE_NAME = "ClaimCheck"
COLLECTION = "claimcheck"  # the datastore folder our records would go in: data/claimcheck/…
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile, as the rankings use it
STDERR_METHOD = "analytic: lm-evaluation-harness's standard error of the mean over items"
INTERVAL_METHOD = "normal approximation: score ± 1.96 standard errors, clipped to [0, 1]"
ENGINES = {"hf": "transformers", "vllm": "vllm"}


class RecordError(ValueError):
    """A run that cannot be exported, or a record that cannot be read: ``str()`` says why."""
