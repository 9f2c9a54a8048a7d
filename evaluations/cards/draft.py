"""What the card reader hands back (``CardClaim``), and the draft it builds on the way."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any


class CardError(ValueError):
    """A model card or results file whose YAML cannot be read."""


@dataclass(frozen=True)
class HubResult:
    """What a hub ``.eval_results`` entry adds to a claim: the benchmark dataset and task it
    names, and where the entry came from."""

    dataset_id: str = ""
    task_id: str = ""
    dataset_revision: str = ""
    verify_token: str = ""
    date: datetime.date | None = None
    source_org: str = ""
    source_ref: str = ""  # "refs/pr/N" for an entry read from an open pull request
    matched_by: str = ""  # "hub-task" (the benchmark's own task), "name", or "" (no match)


@dataclass(frozen=True)
class CardClaim:
    benchmark_key: str | None
    label: str
    metric: str | None
    value: float | None
    raw_value: str
    unit: str | None
    unit_reason: str
    shots: int | None
    chat_template: bool | None
    chain_of_thought: bool | None
    comparable: bool
    reason: str
    source_name: str | None
    source_url: str | None
    source_kind: str
    inherited_from: str | None = None
    reported_by: str | None = None
    stated_stderr: float | None = None  # the author's own ± as a fraction, when written
    hub: HubResult | None = None  # only for .eval_results entries


@dataclass
class Draft:
    """What one entry says, before units and comparability are decided."""

    label: str
    benchmark_key: str | None
    source_kind: str
    raw: Any
    metric: str | None = None
    shots: int | None = None
    chat_template: bool | None = None
    chain_of_thought: bool | None = None
    source_name: str | None = None
    source_url: str | None = None
    inherited_from: str | None = None
    reported_by: str | None = None
    hub: HubResult | None = None
    problems: list[str] = field(default_factory=list)


def as_list(value: Any) -> list[dict[str, Any]]:
    """The mappings in a list (or a lone mapping); anything else is ignored."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def as_mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
