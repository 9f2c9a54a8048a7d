"""The lineage signal: do a model's weights come from the base its card names?

Pure comparison logic, no network: ``configs`` reads the named base and diffs two configs;
``tensors`` picks the matrices to compare, the byte slabs to read and what to measure on them;
``verdict`` turns the measures into a verdict with what it does and does not mean. The hub
reads live in ``workers.hub.weights``, the check itself in ``workers.lineage``.
"""

from evaluations.lineage.configs import ConfigRow, config_diff, named_bases, same_shapes
from evaluations.lineage.tensors import (
    TensorComparison,
    TensorEntry,
    compare_slabs,
    decode,
    header_entries,
    select_tensors,
)
from evaluations.lineage.verdict import (
    ALARMS,
    MEANING,
    CandidateResult,
    Outcome,
    Verdict,
    decide,
)

__all__ = [
    "ALARMS",
    "MEANING",
    "CandidateResult",
    "ConfigRow",
    "Outcome",
    "TensorComparison",
    "TensorEntry",
    "Verdict",
    "compare_slabs",
    "config_diff",
    "decide",
    "decode",
    "header_entries",
    "named_bases",
    "same_shapes",
    "select_tensors",
]
