"""A draft turned into a claim: its unit decided, and why it cannot be compared, if so."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from evaluations.cards.draft import CardClaim, Draft, HubResult
from evaluations.cards.names import without_settings
from evaluations.cards.tables import EXTRA_METRIC_ALIASES, METRIC_ALIASES
from evaluations.cards.units import Converted, convert, parse_value
from evaluations.catalogue import BENCHMARKS

# --- metrics ---------------------------------------------------------------------------------


def _metric_problem(key: str, metric: str | None) -> str | None:
    expected = BENCHMARKS[key].metric
    if not metric:
        return "metric not stated"
    spelled = re.sub(r"[\s\-]+", "_", without_settings(metric.strip().lower()))
    accepted = METRIC_ALIASES.get(expected, frozenset({expected}))
    if spelled in accepted | EXTRA_METRIC_ALIASES.get(key, frozenset()) | {expected}:
        return None
    if "inst_level" in spelled and "prompt_level" in spelled:
        return (
            f"metric '{metric}' is the mean of instruction- and prompt-level strict accuracy,"
            f" not {expected}"
        )
    return f"metric '{metric}' is not the catalogue's {expected}"


# --- assembling a claim ----------------------------------------------------------------------


def make_claim(draft: Draft) -> CardClaim:
    problems = list(draft.problems)
    if draft.benchmark_key is None and not problems:
        problems.append("benchmark not in the catalogue")
    parsed = parse_value(draft.raw)
    if isinstance(parsed, str):
        converted = Converted(None, None, None, "value could not be parsed", parsed)
    else:
        converted = convert(draft.source_kind, draft.benchmark_key, parsed)
    if converted.problem:
        problems.append(converted.problem)
    if draft.benchmark_key is not None:
        if draft.shots is None:
            problems.append("shots not stated")
        metric_problem = _metric_problem(draft.benchmark_key, draft.metric)
        if metric_problem:
            problems.append(metric_problem)
    return CardClaim(
        benchmark_key=draft.benchmark_key,
        label=draft.label,
        metric=draft.metric,
        value=converted.value,
        raw_value="" if draft.raw is None else str(draft.raw),
        unit=converted.unit,
        unit_reason=converted.reason,
        shots=draft.shots,
        chat_template=draft.chat_template,
        chain_of_thought=draft.chain_of_thought,
        comparable=not problems,
        reason="; ".join(dict.fromkeys(problems)),
        source_name=draft.source_name,
        source_url=draft.source_url,
        source_kind=draft.source_kind,
        inherited_from=draft.inherited_from,
        reported_by=draft.reported_by,
        stated_stderr=converted.stderr,
        hub=draft.hub,
    )


# --- JSON for the CLI ------------------------------------------------------------------------


def claims_to_json(claims: list[CardClaim]) -> list[dict[str, Any]]:
    return [
        {
            "benchmark": c.benchmark_key,
            "label": c.label,
            "metric": c.metric,
            "value": c.value,
            "raw_value": c.raw_value,
            "unit": c.unit,
            "unit_reason": c.unit_reason,
            "stated_stderr": c.stated_stderr,
            "shots": c.shots,
            "setting": {"chat_template": c.chat_template, "chain_of_thought": c.chain_of_thought},
            "comparable": c.comparable,
            "reason": c.reason,
            "source": {"name": c.source_name, "url": c.source_url, "kind": c.source_kind},
            "inherited_from": c.inherited_from,
            "reported_by": c.reported_by,
            "hub_result": _hub_json(c.hub),
        }
        for c in claims
    ]


def _hub_json(hub: HubResult | None) -> dict[str, Any] | None:
    if hub is None:
        return None
    fields = dataclasses.asdict(hub)
    fields["date"] = hub.date.isoformat() if hub.date else None
    fields["verify_token"] = bool(hub.verify_token)  # whether one is given; never the token
    return fields
